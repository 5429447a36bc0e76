/**
 * JSON text that is forwarded as it is. Handing one to `invoke` serializes a payload once for
 * many receivers (event fan-out); a function inside the engine gets it parsed.
 */
export class RawJson {
  constructor(readonly text: string) {}
  parse(): unknown {
    return JSON.parse(this.text)
  }
}
