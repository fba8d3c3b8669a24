"""Counter links: the person's pages and API to make and end them, and the public pages
an agent at a counter opens them on, without an account."""
