import assert from "node:assert/strict";
import { sha256Hex } from "../../../engine/digest.ts";
import { Subscriber } from "zeromq";
import { pushZmq, WORKFLOW_ZMQ_TOPIC } from "../../../modules/action/push_zmq.ts";
import {
  createZmqPublisher,
  type ZmqPublisherHandle,
} from "../../../modules/action/lib/zmq_publisher.ts";
import { IntegrationMissingError } from "../../../engine/module_errors.ts";
import { createOutboundContext, sightingData } from "./outbound_test_context.ts";

/** Connects a real SUB socket and waits until the PUB side delivers to it (slow joiner). */
async function connectSubscriber(publisher: ZmqPublisherHandle): Promise<Subscriber> {
  const subscriber = new Subscriber({ linger: 0 });
  subscriber.connect(await publisher.endpoint());
  subscriber.subscribe(WORKFLOW_ZMQ_TOPIC);
  const first = subscriber.receive();
  let settled = false;
  first.finally(() => settled = true);
  while (!settled) {
    await publisher.publish(WORKFLOW_ZMQ_TOPIC, '"warm-up"');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await first;
  return subscriber;
}

/** The next message that is not a warm-up. */
async function nextMessage(subscriber: Subscriber): Promise<string> {
  for (;;) {
    const [frame] = await subscriber.receive();
    const text = frame?.toString() ?? "";
    if (text !== `${WORKFLOW_ZMQ_TOPIC} "warm-up"`) return text;
  }
}

Deno.test("push-zmq publishes the roaming data on misp_json_workflow to a real subscriber", async () => {
  await using publisher = createZmqPublisher("tcp://127.0.0.1:*");
  const subscriber = await connectSubscriber(publisher);
  try {
    const data = await sightingData();
    const { context, records } = createOutboundContext({
      module: pushZmq,
      data,
      services: { zmq: publisher },
    });
    assert.equal(await pushZmq.exec(context), true);
    const message = await nextMessage(subscriber);
    assert.equal(message, `${WORKFLOW_ZMQ_TOPIC} ${JSON.stringify(data)}`);
    assert.equal(records[0]?.kind, "zmq");
    assert.equal(records[0]?.dry, false);
    assert.equal(records[0]?.body_digest, await sha256Hex(JSON.stringify(data)));
  } finally {
    subscriber.close();
  }
});

Deno.test("push-zmq publishes what data_extraction_path extracts", async () => {
  await using publisher = createZmqPublisher("tcp://127.0.0.1:*");
  const subscriber = await connectSubscriber(publisher);
  try {
    const { context } = createOutboundContext({
      module: pushZmq,
      data: await sightingData(),
      params: { data_extraction_path: "Event.Attribute.{n}.value" },
      services: { zmq: publisher },
    });
    assert.equal(await pushZmq.exec(context), true);
    assert.equal(
      await nextMessage(subscriber),
      `${WORKFLOW_ZMQ_TOPIC} ${JSON.stringify(["Value to test", "testvalue"])}`,
    );
  } finally {
    subscriber.close();
  }
});

Deno.test("push-zmq records in a dry run and needs a publisher otherwise", async (t) => {
  await t.step("dry run without a publisher", async () => {
    const { context, records } = createOutboundContext({
      module: pushZmq,
      data: { Event: { id: "1" } },
      dryRun: true,
    });
    assert.equal(await pushZmq.exec(context), true);
    assert.equal(records[0]?.dry, true);
    assert.equal(records[0]?.details?.topic, WORKFLOW_ZMQ_TOPIC);
  });
  await t.step("live without a publisher", async () => {
    const { context } = createOutboundContext({ module: pushZmq, data: { Event: { id: "1" } } });
    await assert.rejects(async () => await pushZmq.exec(context), IntegrationMissingError);
  });
});

Deno.test("createZmqPublisher() reports a bind failure clearly", async () => {
  await using publisher = createZmqPublisher("tcp://256.0.0.1:1");
  await assert.rejects(
    publisher.publish(WORKFLOW_ZMQ_TOPIC, "{}"),
    /^Error: Cannot bind the ZeroMQ publisher to "tcp:\/\/256\.0\.0\.1:1": /,
  );
});
