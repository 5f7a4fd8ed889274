/**
 * `push-zmq` (Push to ZMQ, v0.2): publishes the roaming data, or what `data_extraction_path`
 * extracts from it, on MISP's workflow ZMQ topic `misp_json_workflow` (reference §2.2, §4.3).
 *
 * @module
 */

import type { ModuleDescriptor } from "../../engine/model.ts";
import { extract } from "../../engine/hash_path.ts";
import { sha256Hex } from "../../engine/digest.ts";
import type { ModuleContext, WorkflowModule } from "../../engine/module.ts";
import { IntegrationMissingError } from "../../engine/module_errors.ts";
import { mispActionDescriptor } from "./lib/misp_action.ts";
import { createActionRedactor, redactRecord } from "./lib/redact.ts";

/** The topic MISP's workflow actions publish on. */
export const WORKFLOW_ZMQ_TOPIC = "misp_json_workflow";

const DESCRIPTOR: ModuleDescriptor = mispActionDescriptor({
  id: "push-zmq",
  name: "Push to ZMQ",
  version: "0.2",
  description: "Push to the ZMQ channel",
  icon: "wifi",
  icon_class: "fas fa-rotate-90",
  enabled_by_default: true,
  params: [
    {
      id: "data_extraction_path",
      label: "Data extraction path",
      type: "hashpath",
      default: "",
      placeholder: "Attribute.{n}.AttributeTag.{n}.Tag.name",
    },
  ],
});

/** Push to ZMQ: one message per execution. */
export const pushZmq: WorkflowModule = {
  descriptor: DESCRIPTOR,
  async exec(context: ModuleContext): Promise<boolean> {
    const redactor = createActionRedactor(DESCRIPTOR, context);
    const path = String(context.params.data_extraction_path ?? "").trim();
    const data = context.roaming.getData();
    let payload: unknown;
    try {
      payload = path === "" ? data : extract(data, path);
    } catch (error) {
      context.errors.push(
        `Cannot extract "${path}": ${error instanceof Error ? error.message : error}`,
      );
      return false;
    }
    const message = JSON.stringify(payload);
    context.record(redactRecord({
      kind: "zmq",
      dry: context.dryRun,
      body_digest: await sha256Hex(message),
      summary: `Publish on ZMQ topic ${WORKFLOW_ZMQ_TOPIC} (${message.length} characters)`,
      details: {
        topic: WORKFLOW_ZMQ_TOPIC,
        ...(path === "" ? {} : { data_extraction_path: path }),
      },
    }, redactor));
    if (context.dryRun) return true;
    const zmq = context.services.zmq;
    if (!zmq) throw new IntegrationMissingError("a ZeroMQ endpoint (FLOWGATE_ZMQ_ENDPOINT)");
    await zmq.publish(WORKFLOW_ZMQ_TOPIC, message);
    return true;
  },
};
