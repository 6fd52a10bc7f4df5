// Two matrix-js-sdk clients against a real Concord server (HS_URL): they
// chat, react, edit, redact and read each other's receipts, each client
// syncing with startClient as Element would.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as sdk from "matrix-js-sdk";

const baseUrl = process.env.HS_URL;
assert.ok(baseUrl, "HS_URL must be set");

// register makes a user through the user-interactive dummy flow.
async function register(username) {
  const post = (body) =>
    fetch(`${baseUrl}/_matrix/client/v3/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  const first = await (await post({ username, password: "pw-" + username })).json();
  const res = await post({ username, password: "pw-" + username, auth: { type: "m.login.dummy", session: first.session } });
  assert.equal(res.status, 200, `register ${username}`);
  return res.json();
}

async function startedClient(username) {
  const reg = await register(username);
  const client = sdk.createClient({ baseUrl, userId: reg.user_id, accessToken: reg.access_token, deviceId: reg.device_id });
  const ready = new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === "PREPARED") resolve();
      if (state === "ERROR") reject(data?.error ?? new Error("sync error"));
    });
  });
  await client.startClient({ initialSyncLimit: 20 });
  await ready;
  return client;
}

// waitFor polls cond (which reads the clients' synced state) until it holds.
async function waitFor(what, cond, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("two clients chat, react, edit, redact and read receipts", { timeout: 60000 }, async () => {
  const alice = await startedClient("jsalice");
  const bob = await startedClient("jsbob");
  try {
    const { room_id: roomId } = await alice.createRoom({ preset: "private_chat", invite: [bob.getUserId()], name: "js room" });
    await waitFor("bob's invite", () => bob.getRoom(roomId)?.getMyMembership() === "invite");
    await bob.joinRoom(roomId);
    await waitFor("bob joined, seen by alice", () => alice.getRoom(roomId)?.getMember(bob.getUserId())?.membership === "join");

    // Chat both ways.
    const { event_id: helloId } = await alice.sendTextMessage(roomId, "hello bob");
    const bobSees = (id) => bob.getRoom(roomId)?.findEventById(id);
    const hello = await waitFor("bob receives hello", () => bobSees(helloId));
    assert.equal(hello.getContent().body, "hello bob");
    assert.equal(hello.getSender(), alice.getUserId());
    const { event_id: replyId } = await bob.sendTextMessage(roomId, "hi alice");
    const reply = await waitFor("alice receives the reply", () => alice.getRoom(roomId)?.findEventById(replyId));
    assert.equal(reply.getContent().body, "hi alice");

    // Bob reacts to hello; alice sees the annotation.
    const { event_id: reactionId } = await bob.sendEvent(roomId, "m.reaction", {
      "m.relates_to": { rel_type: "m.annotation", event_id: helloId, key: "👍" },
    });
    const reaction = await waitFor("alice receives the reaction", () => alice.getRoom(roomId)?.findEventById(reactionId));
    assert.equal(reaction.getRelation().key, "👍");
    assert.equal(reaction.getRelation().event_id, helloId);

    // Alice edits hello; bob's view shows the replacement.
    await alice.sendEvent(roomId, "m.room.message", {
      msgtype: "m.text",
      body: "* hello bob, edited",
      "m.new_content": { msgtype: "m.text", body: "hello bob, edited" },
      "m.relates_to": { rel_type: "m.replace", event_id: helloId },
    });
    await waitFor("bob sees the edit", () => bobSees(helloId)?.getContent().body === "hello bob, edited");

    // Alice redacts one of her messages; bob sees it redacted.
    const { event_id: doomedId } = await alice.sendTextMessage(roomId, "this will be redacted");
    await waitFor("bob receives the doomed message", () => bobSees(doomedId));
    await alice.redactEvent(roomId, doomedId);
    await waitFor("bob sees the redaction", () => bobSees(doomedId)?.isRedacted());
    assert.equal(bobSees(doomedId).getContent().body, undefined);

    // Bob reads alice's latest message; alice sees bob's receipt, and back.
    const latestForBob = await waitFor("bob has the latest event", () => bobSees(doomedId));
    await bob.sendReadReceipt(latestForBob);
    await waitFor("alice sees bob's receipt", () =>
      alice.getRoom(roomId)?.getUsersReadUpTo(alice.getRoom(roomId).findEventById(doomedId)).includes(bob.getUserId()));
    const replyForAlice = alice.getRoom(roomId).findEventById(replyId);
    await alice.sendReadReceipt(replyForAlice);
    await waitFor("bob sees alice's receipt", () =>
      bob.getRoom(roomId)?.getEventReadUpTo(alice.getUserId()) !== null &&
      bob.getRoom(roomId).hasUserReadEvent(alice.getUserId(), replyId));
  } finally {
    alice.stopClient();
    bob.stopClient();
  }
});
