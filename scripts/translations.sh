#!/bin/sh
# The interface's catalogues (web/translations), French being the source language.
#   scripts/translations.sh update    extract the strings, merge them into every catalogue
#   scripts/translations.sh compile   compile every catalogue (the .mo files are committed)
#   scripts/translations.sh init LL   start a catalogue for a new locale (Babel's code: fa_AF)
set -eu
cd "$(dirname "$0")/.."
BABEL=".venv/bin/pybabel"
DIR=web/translations
case "${1:-}" in
update)
    $BABEL extract -F babel.cfg -k _l --no-location --sort-output --no-wrap \
        --project "Mon coffre-fort" -o "$DIR/messages.pot" .
    $BABEL update -i "$DIR/messages.pot" -d "$DIR" --no-wrap --ignore-obsolete --no-fuzzy-matching
    ;;
compile)
    $BABEL compile -d "$DIR" --statistics
    ;;
init)
    $BABEL init -i "$DIR/messages.pot" -d "$DIR" -l "$2" --no-wrap
    ;;
*)
    echo "usage: $0 update | compile | init LOCALE" >&2
    exit 2
    ;;
esac
