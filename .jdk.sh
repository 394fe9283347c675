# Sourced by ./hv and ./run-tests: finds a JDK 25 or newer and exports JAVA_HOME.
# Order: JAVA_HOME if it is new enough, then `java` on PATH, then the usual install folders.
lhv_java_major() { # prints the major version of the java binary $1, or nothing
  # the JDK's `release` file names its version without starting a JVM (a JVM start costs ~0.2 s of CPU)
  local release v
  release="$(dirname "$(dirname "$1")")/release"
  if [ -f "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release" | head -n1)
    if [ -n "$v" ]; then echo "$v"; return; fi
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}
lhv_find_jdk() {
  local cand v
  for cand in "${JAVA_HOME:-}" \
              "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null)" 2>/dev/null)" 2>/dev/null)" 2>/dev/null)" \
              /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /opt/*jdk* "$HOME"/.sdkman/candidates/java/* \
              "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    v=$(lhv_java_major "$cand/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$cand"; return 0; fi
  done
  return 1
}
if ! LHV_JDK=$(lhv_find_jdk); then
  echo "hv: no JDK 25 or newer found (set JAVA_HOME to a JDK 25 installation)" >&2
  exit 3
fi
export JAVA_HOME="$LHV_JDK"
