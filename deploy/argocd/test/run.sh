#!/usr/bin/env bash
# Tests the Argo CD health scripts in deploy/argocd/ with a Lua interpreter (harness.lua).
#
#   deploy/argocd/test/run.sh                     # every fixture in deploy/argocd/test/fixtures/
#   deploy/argocd/test/run.sh DIR|FILE.json...    # these fixtures ({"kind", "object", "expect"})
#   deploy/argocd/test/run.sh --object FILE --kind KIND --expect STATUS [--message-contains TEXT]
#       one real object, e.g. `kubectl get kctr NAME -o json > obj.json` (FILE may be `-` for
#       stdin; a List checks every item; --kind defaults to the object's kind)
#
# Fixture runs also check that argocd-cm-snippet.yaml embeds the current scripts.
# Prints one line per case, then "N passed, N failed"; exits 1 on a failure, 2 on a usage
# error or a missing interpreter.
#
# Needs Lua 5.1-5.4: `apt-get install -y lua5.4` (lua-cjson is used when installed, else a
# built-in JSON decoder). LUA=lua5.1 picks the interpreter (Argo CD runs gopher-lua, a Lua 5.1).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scripts="$(dirname "$here")"

lua="${LUA:-}"
if [[ -z "$lua" ]]; then
  for candidate in lua5.4 lua5.3 lua5.1 lua luajit; do
    if command -v "$candidate" >/dev/null 2>&1; then
      lua="$candidate"
      break
    fi
  done
fi
if [[ -z "$lua" ]] || ! command -v "$lua" >/dev/null 2>&1; then
  echo "run.sh: no Lua interpreter (${lua:-none found}): apt-get install -y lua5.4" >&2
  exit 2
fi

single=false
for a in "$@"; do
  if [[ "$a" == "--object" ]]; then single=true; fi
done

if $single; then
  exec "$lua" "$here/harness.lua" --scripts "$scripts" "$@"
fi

options=()
files=()
while (($#)); do
  case "$1" in
    --pure-json) options+=("$1") ;;
    --*) echo "run.sh: unknown option $1 (fixture mode takes directories and files)" >&2; exit 2 ;;
    *)
      if [[ -d "$1" ]]; then
        shopt -s nullglob
        found=("${1%/}"/*.json)
        shopt -u nullglob
        if ((${#found[@]} == 0)); then echo "run.sh: no *.json in $1" >&2; exit 2; fi
        files+=("${found[@]}")
      else
        files+=("$1")
      fi
      ;;
  esac
  shift
done
if ((${#files[@]} == 0)); then
  shopt -s nullglob
  files=("$here"/fixtures/*.json)
  shopt -u nullglob
fi

exec "$lua" "$here/harness.lua" --scripts "$scripts" --snippet "$scripts/argocd-cm-snippet.yaml" "${options[@]}" "${files[@]}"
