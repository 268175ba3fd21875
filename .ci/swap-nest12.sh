#!/usr/bin/env bash
# The whole suite against the newest majors a user may pair the library with: Nest 12 (ESM-only),
# openai 7 and class-validator 0.15, on Node 24 (jest loads ES modules through require() there,
# with --experimental-vm-modules as Nest 12's own jest template runs it). It works on a copy of the
# tracked files, so this checkout's node_modules stay as npm ci made them.
#   swap-nest12.sh install <dir> <PATH with Node 24 first>   copy and install (mostly network)
#   swap-nest12.sh test <dir> <PATH with Node 24 first>      npm test in the copy, then remove it
set -euo pipefail
cd "$(dirname "$0")/.."
step=${1:?usage: swap-nest12.sh install|test <dir> <PATH>}
copy=${2:?missing the folder of the copy}
export PATH="${3:?missing the PATH with Node 24 first}"

case "$step" in
  install)
    mkdir -p "$copy"
    git ls-files -z | xargs -0 cp --parents -t "$copy"
    cd "$copy"
    npm pkg set \
      dependencies.@nestjs/common=^12.0.0 dependencies.@nestjs/core=^12.0.0 \
      dependencies.@nestjs/platform-express=^12.0.0 dependencies.@nestjs/websockets=^12.0.0 \
      dependencies.@nestjs/platform-ws=^12.0.0 dependencies.@nestjs/swagger=^12.0.0 \
      devDependencies.@nestjs/testing=^12.0.0 dependencies.openai=^7.0.0 dependencies.class-validator=^0.15.0
    rm package-lock.json
    npm install --no-audit --no-fund --loglevel=error
    npm ls @nestjs/core @nestjs/websockets openai class-validator --depth=0
    ;;
  test)
    trap 'rm -rf "$copy"' EXIT
    cd "$copy"
    NODE_OPTIONS=--experimental-vm-modules npm test
    ;;
  *)
    echo "unknown step $step" >&2
    exit 2
    ;;
esac
