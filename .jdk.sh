# Sourced by ./hv, ./run-tests and the bench scripts: finds a JDK 25 or newer and exports JAVA_HOME.
# Order: JAVA_HOME if it is new enough, then `java` on PATH, then the usual install folders.
# Runs on every `./hv`, so it stays in bash: no JVM start (~0.2 s of CPU) and, on the usual path,
# no extra processes (each costs milliseconds of wall time on a loaded machine).
lhv_jdk_major() { # sets lhv_major to the major version of the JDK at $1, or to nothing
  lhv_major=
  local line
  # the JDK's `release` file names its version without starting a JVM
  if [ -f "$1/release" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in
        JAVA_VERSION=*)
          line=${line#JAVA_VERSION=}; line=${line#\"}; line=${line%%[!0-9]*}
          lhv_major=$line
          [ -n "$lhv_major" ] && return 0
          break ;;
      esac
    done <"$1/release"
  fi
  lhv_major=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1) || lhv_major=
}
lhv_jdk_ok() { # true when $1 is a JDK (java and javac) of version 25 or newer
  [ -n "$1" ] && [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  lhv_jdk_major "$1"
  [ -n "$lhv_major" ] && [ "$lhv_major" -ge 25 ]
}
lhv_find_jdk() { # sets LHV_JDK, or fails
  local cand onpath
  LHV_JDK=
  if lhv_jdk_ok "${JAVA_HOME:-}"; then LHV_JDK=$JAVA_HOME; return 0; fi
  if onpath=$(command -v java 2>/dev/null) && onpath=$(readlink -f "$onpath" 2>/dev/null); then
    cand=${onpath%/bin/java}
    if [ "$cand" != "$onpath" ] && lhv_jdk_ok "$cand"; then LHV_JDK=$cand; return 0; fi
  fi
  for cand in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /opt/*jdk* "$HOME"/.sdkman/candidates/java/* \
              "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    if lhv_jdk_ok "$cand"; then LHV_JDK=$cand; return 0; fi
  done
  return 1
}
if ! lhv_find_jdk; then
  echo "hv: no JDK 25 or newer found (set JAVA_HOME to a JDK 25 installation)" >&2
  exit 3
fi
export JAVA_HOME="$LHV_JDK"
