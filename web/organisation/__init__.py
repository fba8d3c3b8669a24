"""Organisation administration: an admin's pages, API and commands for their organisation's
professionals (list, invite, role, deactivate), the invitation a professional answers, and
the person's choice after a professional of their list left."""
