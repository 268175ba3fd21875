#!/usr/bin/env bash
# The whole suite against the newest majors a user may pair the library with: Nest 12 (ESM-only),
# openai 7 and class-validator 0.15, on the Node PATH given (24: jest loads ES modules through
# require() there, with --experimental-vm-modules as Nest 12's own jest template runs it).
# Works on a copy of the tracked files, so this checkout's node_modules stay as npm ci made them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${1:?usage: swap-nest12.sh <PATH with node 24 first>}"

copy=$(mktemp -d "${TMPDIR:-/tmp}/lanarky-nest12-XXXXXX")
trap 'rm -rf "$copy"' EXIT
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
NODE_OPTIONS=--experimental-vm-modules npm test
