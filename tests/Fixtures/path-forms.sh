#!/usr/bin/env bash
# Lists the distinct forms of the pathname column (with whether the inode is 0) over every captured maps under
# tests/Fixtures, one real line for each, as the xunit rows of MappingKindTests (tests/MapsExporter.Tests/Core):
#
#   bash tests/Fixtures/path-forms.sh
#
# A form folds what does not decide a mapping's kind: a file's path becomes /PATH (keeping " (deleted)"),
# memfd:NAME, SYSVKEY and a bracketed name's ":NAME" keep only their shape; the inode column is "0" or "N".
# The example line is the first of its form, in fixture order.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

find . -name maps -type f | LC_ALL=C sort | while read -r file; do
  awk -v fixture="${file#./}" '
    function form(path, inode,   p, deleted) {
      if (path == "") return "(none), inode " inode
      if (path ~ /^\[/) { p = path; sub(/:.*\]$/, ":NAME]", p); return p ", inode " inode }
      p = path
      deleted = sub(/ \(deleted\)$/, "", p)
      if (p ~ /^\/memfd:/) p = "/memfd:NAME"
      else if (p ~ /^\/SYSV[0-9a-f]+$/) p = "/SYSVKEY"
      else if (p ~ /^\//) p = "/PATH"
      else p = "RELATIVE"
      return p (deleted ? " (deleted)" : "") ", inode " inode
    }
    {
      # The pathname: what follows the inode column and its padding (it may hold spaces).
      line = $0
      path = line
      sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [0-9]+ */, "", path)
      print form(path, $5 == "0" ? "0" : "N") "\t" fixture "\t" line
    }' "$file"
done | awk -F'\t' '!seen[$1]++ {
  gsub(/\\/, "\\\\", $3); gsub(/"/, "\\\"", $3)
  printf "    [InlineData(\"%s\", \"%s\", \"%s\")]\n", $1, $2, $3
}'
