# Drops the target generators from a `./pants list` output, read twice: `awk -f this.awk FILE FILE`.
# A generator `<dir>:<name>` is listed along with what it generated: `<dir>/<file>:<name>` (`<dir>/<file>` when
# <name> is the directory's own name) or `<dir>:<name>#<key>`.
NR == FNR {
  if (i = index($0, "#")) {
    generator[substr($0, 1, i - 1)] = 1
    next
  }
  if (i = index($0, ":")) {
    path = substr($0, 1, i - 1)
    name = substr($0, i + 1)
  } else {
    path = $0
    name = ""
  }
  while (sub(/\/[^\/]*$/, "", path)) {
    base = path
    sub(/^.*\//, "", base)
    generator[path ":" (name == "" ? base : name)] = 1
  }
  next
}
!($0 in generator)
