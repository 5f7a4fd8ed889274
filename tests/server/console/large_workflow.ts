/**
 * A 15-node workflow (trigger, seven tag checks, seven webhooks) with long labels, for console
 * tests and screenshots of a large graph.
 *
 * @module
 */

const TAGS = ["tlp:red", "tlp:amber", "pap:red", "osint", "phishing", "ransomware", "apt"];

/** The workflow's YAML: each check sends matches to its webhook and the rest to the next check. */
export function largeWorkflowYaml(name = "triage-by-marking"): string {
  const lines = [
    `name: ${name}`,
    "description: Route every published event by its markings, one check after the other",
    "trigger: event-publish",
    "enabled: true",
    "start: check-1",
    "nodes:",
  ];
  TAGS.forEach((tag, index) => {
    const n = index + 1;
    lines.push(
      `  check-${n}:`,
      "    module: tag-if",
      `    label: Does the event carry the ${tag} marking on the event itself?`,
      `    params: { scope: event, condition: in_or, tags: ["${tag}"] }`,
      `    then: notify-${n}`,
      ...(n < TAGS.length ? [`    else: check-${n + 1}`] : []),
      `  notify-${n}:`,
      "    module: webhook",
      `    label: Tell the ${tag} desk`,
      `    params: { url: "https://hooks.example.org/${tag.replace(":", "-")}" }`,
    );
  });
  return `${lines.join("\n")}\n`;
}
