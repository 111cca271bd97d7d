// Plugin health as the host reports it (sdk/plugin/host: starting,
// healthy, unhealthy, restarting, failed, stopped).

export type Tone = "ok" | "warn" | "bad" | "busy" | "off";

/** pluginTone is the colour a plugin's health is shown in. */
export function pluginTone(health: string): Tone {
  switch (health) {
    case "healthy":
      return "ok";
    case "starting":
    case "restarting":
      return "busy";
    case "unhealthy":
      return "warn";
    case "failed":
      return "bad";
    default:
      return "off";
  }
}
