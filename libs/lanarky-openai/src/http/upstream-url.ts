/** `host[:port]` of a base URL, for log lines: never its credentials, path or query. */
export function upstreamHost(baseURL: string | undefined): string | undefined {
  if (!baseURL || !URL.canParse(baseURL)) {
    return undefined;
  }
  return new URL(baseURL).host || undefined;
}
