// An independent ActivityPub peer built on Fedify, for `make interop`.
//
// Usage: node peer.mjs [port]   (or PEER_PORT=...; 0 or nothing picks a free port)
// Prints one line `listening http://127.0.0.1:<port>` on stdout when ready; logs go to stderr.
//
// One actor, `peer`, with an RSA key (HTTP Signatures) and an Ed25519 key (Object Integrity Proofs), both
// generated at start.  Loopback only and test only: `allowPrivateAddress: true` lets Fedify fetch from
// 127.0.0.1; signatures are always verified (`skipSignatureVerification` is never set).
//
// Control API for the tests (JSON in, JSON out), on the same server:
//   GET  /_control/health                 -> {actor, handle}
//   POST /_control/follow   {handle}      -> peer follows that account (WebFinger, signed GET, Follow)
//   POST /_control/unfollow {handle}      -> Undo(Follow)
//   POST /_control/post     {content, inReplyTo?, to?: [handles]}
//                                         -> Create(Note) to followers, the replied-to author and `to`
//   POST /_control/like     {object}      -> Like to the object's author
//   POST /_control/delete   {id}          -> Delete(Tombstone) of one of peer's notes to its audience
//   POST /_control/lookup   {uri|handle}  -> Fedify's reading of a remote object: {type, json} (signed GET)
//   POST /_control/software {name}        -> the `software.name` the peer's NodeInfo says (default
//                                            "fedify-peer"; a community treats "lemmy" as group-aware)
//   GET  /_control/received               -> everything seen: verified activities, raw inbox requests,
//                                            signed fetches of the actor, delivery errors, followers
//   POST /_control/reset                  -> forget all of the above (the keys stay), between tests

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import http from "node:http";
import process from "node:process";

import {
  createExponentialBackoffPolicy,
  createFederation,
  generateCryptoKeyPair,
  InProcessMessageQueue,
  MemoryKvStore,
} from "@fedify/fedify";
import {
  Accept,
  Activity,
  Announce,
  Create,
  Delete,
  Endpoints,
  Follow,
  isActor,
  Like,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Reject,
  Tombstone,
  Undo,
  Update,
} from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { configure, defaultTextFormatter } from "@logtape/logtape";

const IDENTIFIER = "peer";
const requestedPort = Number(process.argv[2] ?? process.env.PEER_PORT ?? 0);
const logLevel = process.env.PEER_LOG_LEVEL ?? "debug";

await configure({
  contextLocalStorage: new AsyncLocalStorage(),
  sinks: { stderr: (record) => process.stderr.write(defaultTextFormatter(record)) },
  loggers: [
    { category: "fedify", lowestLevel: logLevel, sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    { category: "peer", lowestLevel: "debug", sinks: ["stderr"] },
  ],
});

// --- state (in memory, for one test run) ------------------------------------------------------------

const keyPairs = [
  await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  await generateCryptoKeyPair("Ed25519"),
];
/** Verified activities, as Fedify handed them to the listeners. */
const activities = [];
/** Every POST to an inbox, raw: signature headers, body, and Fedify's answer. */
const inboxRequests = [];
/** Every request for the actor document, with the verified signer if it was signed. */
const actorFetches = [];
/** Deliveries of ours that failed, and inbox deliveries Fedify could not verify. */
const errors = [];
/** follower actor URI -> {id, inboxId, endpoints} */
const followers = new Map();
/** followed actor URI -> {follow: Follow id, state: "pending" | "accepted" | "rejected", inbox} */
const following = new Map();
/** id -> Note (peer's own notes, served at their ids) */
const notes = new Map();
/** note id -> the recipients its Create went to (its Delete goes to the same) */
const audiences = new Map();
/** every activity peer sent, compacted */
const sent = [];

/** NodeInfo `software.name`: what the peer says it runs (a community decides from it how to announce) */
const DEFAULT_SOFTWARE = "fedify-peer";
let software = DEFAULT_SOFTWARE;

const now = () => new Date().toISOString();
const log = (message) => process.stderr.write(`${now()} [peer] ${message}\n`);

// --- federation ---------------------------------------------------------------------------------------

const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  allowPrivateAddress: true,
  // quick retries: a test waits seconds, not hours
  outboxRetryPolicy: createExponentialBackoffPolicy({
    initialDelay: { seconds: 1 }, maxDelay: { seconds: 4 }, maxAttempts: 4, jitter: false,
  }),
  inboxRetryPolicy: createExponentialBackoffPolicy({
    initialDelay: { seconds: 1 }, maxDelay: { seconds: 4 }, maxAttempts: 4, jitter: false,
  }),
  circuitBreaker: false,
  userAgent: "fediverse-learn-interop-peer (Fedify 2.3.6)",
  onOutboxError: (error, activity) => {
    errors.push({ at: now(), kind: "outbox", activity: activity?.id?.href ?? null, error: String(error) });
  },
});

federation.setOutboxPermanentFailureHandler((_ctx, { reason, inbox, activity, error, statusCode }) => {
  errors.push({
    at: now(), kind: "permanent-failure", reason, inbox: inbox.href, activity: activity.id?.href ?? null,
    statusCode, error: String(error),
  });
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify peer",
      summary: "An independent ActivityPub implementation (Fedify) for interoperability tests.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      following: ctx.getFollowingUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: false,
      discoverable: true,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === IDENTIFIER ? keyPairs : []))
  .mapHandle((_ctx, username) => (username === IDENTIFIER ? IDENTIFIER : null))
  // Authorized fetch, as Mastodon's secure mode: the actor document needs a signed GET.  This is what makes
  // `fediverse-learn resolve peer@...` prove that Fedify verifies our signature.
  .authorize(async (ctx, identifier) => {
    let owner = null;
    let keyId = null;
    let error = null;
    try {
      const key = await ctx.getSignedKey();
      keyId = key?.id?.href ?? null;
      owner = key == null ? null : (await ctx.getSignedKeyOwner())?.id?.href ?? null;
    } catch (e) {
      error = String(e);
    }
    const headers = ctx.request.headers;
    actorFetches.push({
      at: now(), identifier, keyId, owner, error,
      accept: headers.get("accept"),
      signature: headers.get("signature"),
      signatureInput: headers.get("signature-input"),
      scheme: headers.has("signature-input") ? "rfc9421" : headers.has("signature") ? "cavage" : null,
    });
    return owner != null;
  });

federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
  software: { name: software, version: "2.3.6" },
  protocols: ["activitypub"],
  usage: { users: { total: 1 }, localPosts: notes.size, localComments: 0 },
}));

federation
  .setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    return { items: [...followers.values()] };
  })
  .setCounter((_ctx, identifier) => (identifier === IDENTIFIER ? followers.size : null));

federation
  .setFollowingDispatcher("/users/{identifier}/following", (_ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    return {
      items: [...following.entries()].filter(([, f]) => f.state === "accepted").map(([uri]) => new URL(uri)),
    };
  });

federation
  .setOutboxDispatcher("/users/{identifier}/outbox", (_ctx, identifier) => {
    if (identifier !== IDENTIFIER) return null;
    return { items: [...notes.values()].map((note) => new Create({ id: new URL(`${note.id.href}#create`),
      actor: note.attributionId, object: note, tos: note.toIds, ccs: note.ccIds })) };
  });

federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", (ctx, { identifier, id }) => {
  if (identifier !== IDENTIFIER) return null;
  return notes.get(ctx.getObjectUri(Note, { identifier, id }).href) ?? null;
});

async function record(ctx, activity) {
  const json = await activity.toJsonLd({ contextLoader: ctx.contextLoader });
  const entry = {
    at: now(),
    type: json.type ?? activity.constructor.name,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object: activity.objectId?.href ?? null,
    recipient: ctx.recipient ?? null,
    json,
  };
  activities.push(entry);
  log(`received ${entry.type} ${entry.id} from ${entry.actor}`);
  return entry;
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    if (follow.id == null || follow.actorId == null || follow.objectId == null) return;
    const target = ctx.parseUri(follow.objectId);
    if (target?.type !== "actor" || target.identifier !== IDENTIFIER) return;
    const follower = await follow.getActor(ctx);
    if (!isActor(follower) || follower.inboxId == null) {
      errors.push({ at: now(), kind: "follow", error: `cannot get follower ${follow.actorId.href}` });
      return;
    }
    followers.set(follower.id.href, {
      id: follower.id, inboxId: follower.inboxId, endpoints: follower.endpoints ?? null,
    });
    const accept = new Accept({
      id: new URL(`${ctx.getActorUri(IDENTIFIER).href}#accepts/${randomUUID()}`),
      actor: ctx.getActorUri(IDENTIFIER),
      to: follower.id,
      object: follow,
    });
    await send(ctx, follower, accept);
  })
  .on(Accept, async (ctx, accept) => {
    await record(ctx, accept);
    for (const [uri, f] of following) {
      if (f.follow === accept.objectId?.href && uri === accept.actorId?.href) f.state = "accepted";
    }
  })
  .on(Reject, async (ctx, reject) => {
    await record(ctx, reject);
    for (const [uri, f] of following) {
      if (f.follow === reject.objectId?.href && uri === reject.actorId?.href) f.state = "rejected";
    }
  })
  .on(Create, async (ctx, create) => {
    const entry = await record(ctx, create);
    const object = await create.getObject(ctx);
    if (object != null) entry.objectJson = await object.toJsonLd({ contextLoader: ctx.contextLoader });
  })
  .on(Update, async (ctx, update) => { await record(ctx, update); })
  .on(Delete, async (ctx, del) => { await record(ctx, del); })
  .on(Announce, async (ctx, announce) => { await record(ctx, announce); })
  .on(Like, async (ctx, like) => { await record(ctx, like); })
  .on(Undo, async (ctx, undo) => {
    await record(ctx, undo);
    const object = await undo.getObject(ctx);
    if (object instanceof Follow && object.actorId != null && undo.actorId?.href === object.actorId.href) {
      followers.delete(object.actorId.href);
    }
  })
  .on(Activity, async (ctx, activity) => { await record(ctx, activity); })
  .onError((_ctx, error) => {
    errors.push({ at: now(), kind: "inbox-listener", error: String(error), stack: error?.stack ?? null });
  })
  .onUnverifiedActivity((_ctx, activity, reason) => {
    errors.push({
      at: now(), kind: "unverified", activity: activity.id?.href ?? null, reason: {
        type: reason.type, keyId: reason.keyId?.href ?? null,
        result: reason.result == null ? null : JSON.parse(JSON.stringify(reason.result, (_k, v) =>
          v instanceof URL ? v.href : v instanceof Error ? String(v) : v)),
      },
    });
    // undefined: Fedify answers with its default 401
  });

async function send(ctx, recipients, activity, options = {}) {
  const json = await activity.toJsonLd({ contextLoader: ctx.contextLoader });
  sent.push({ at: now(), json });
  log(`sending ${json.type} ${activity.id?.href}`);
  await ctx.sendActivity({ identifier: IDENTIFIER }, recipients, activity, { preferSharedInbox: true, ...options });
}

// --- control API ----------------------------------------------------------------------------------------

const json = (body, status = 200) => new Response(JSON.stringify(body, null, 2), {
  status, headers: { "content-type": "application/json" },
});

/** Fedify's handle lookup, and what we do when it cannot work here (see the report in the README). */
async function resolveHandle(ctx, handle) {
  const documentLoader = await ctx.getDocumentLoader({ identifier: IDENTIFIER });
  const attempts = [];
  try {
    const found = await ctx.lookupObject(handle, { documentLoader });
    attempts.push({ how: "lookupObject(handle)", result: found?.id?.href ?? null });
    if (isActor(found)) return { actor: found, attempts };
  } catch (e) {
    attempts.push({ how: "lookupObject(handle)", error: String(e) });
  }
  // Fedify's WebFinger client always uses https: for acct: resources; our loopback servers speak http.
  // So: WebFinger over http by hand, then Fedify fetches the actor (signed GET) itself.
  const bare = handle.replace(/^@/, "");
  const host = bare.slice(bare.lastIndexOf("@") + 1);
  const url = new URL(`http://${host}/.well-known/webfinger`);
  url.searchParams.set("resource", `acct:${bare}`);
  const response = await fetch(url, { headers: { accept: "application/jrd+json" } });
  const jrd = response.ok ? await response.json() : null;
  const self = jrd?.links?.find((l) => l.rel === "self" && /activity\+json|ld\+json/.test(l.type ?? ""));
  attempts.push({ how: `GET ${url.href}`, status: response.status, self: self?.href ?? null });
  if (self == null) return { actor: null, attempts };
  try {
    const found = await ctx.lookupObject(self.href, { documentLoader });
    attempts.push({ how: "lookupObject(self)", result: found?.id?.href ?? null });
    return { actor: isActor(found) ? found : null, attempts };
  } catch (e) {
    attempts.push({ how: "lookupObject(self)", error: String(e) });
    return { actor: null, attempts };
  }
}

async function lookupActorOf(ctx, objectUri) {
  const documentLoader = await ctx.getDocumentLoader({ identifier: IDENTIFIER });
  const object = await ctx.lookupObject(objectUri, { documentLoader });
  if (object == null) return { object: null, author: null };
  const authorId = object.attributionId ?? object.actorId ?? null;
  const author = authorId == null ? null : await ctx.lookupObject(authorId, { documentLoader });
  return { object, author: isActor(author) ? author : null };
}

async function control(request, body) {
  const url = new URL(request.url);
  const ctx = federation.createContext(request, undefined);
  const me = ctx.getActorUri(IDENTIFIER);
  const input = body.length > 0 ? JSON.parse(body.toString("utf8")) : {};
  switch (`${request.method} ${url.pathname}`) {
    case "GET /_control/health":
      return json({ actor: me.href, handle: `${IDENTIFIER}@${url.host}` });
    case "GET /_control/received":
      return json({
        activities, inboxRequests, actorFetches, errors, sent,
        followers: [...followers.keys()],
        following: Object.fromEntries(following),
      });
    case "POST /_control/reset":
      for (const list of [activities, inboxRequests, actorFetches, errors, sent]) list.length = 0;
      for (const map of [followers, following, notes, audiences]) map.clear();
      software = DEFAULT_SOFTWARE;
      return json({ reset: true });
    case "POST /_control/software":
      if (typeof input.name !== "string" || !/^[a-z0-9-]+$/.test(input.name)) {
        return json({ error: "name: lowercase letters, digits and hyphens (NodeInfo 2.1)" }, 400);
      }
      software = input.name;
      return json({ software });
    case "POST /_control/lookup": {
      let object = null;
      let attempts = [];
      if (input.handle) {
        ({ actor: object, attempts } = await resolveHandle(ctx, input.handle));
      } else {
        const documentLoader = await ctx.getDocumentLoader({ identifier: IDENTIFIER });
        try {
          object = await ctx.lookupObject(input.uri, { documentLoader });
        } catch (e) {
          attempts.push({ how: `lookupObject(${input.uri})`, error: String(e) });
        }
      }
      if (object == null) return json({ error: `cannot look up ${input.handle ?? input.uri}`, attempts }, 502);
      // `parsed`: what Fedify understood (its typed properties); `json` keeps the document as fetched
      const href = (url) => url?.href ?? null;
      const parsed = {
        id: href(object.id), name: object.name?.toString() ?? null,
        attributedTo: (object.attributionIds ?? []).map(href), audience: href(object.audienceId),
      };
      if (isActor(object)) {
        Object.assign(parsed, {
          preferredUsername: object.preferredUsername?.toString() ?? null, inbox: href(object.inboxId),
          outbox: href(object.outboxId), followers: href(object.followersId), following: href(object.followingId),
          featured: href(object.featuredId), sharedInbox: href(object.endpoints?.sharedInbox),
          manuallyApprovesFollowers: object.manuallyApprovesFollowers, publicKey: href(object.publicKeyId),
          discoverable: object.discoverable,
        });
      }
      return json({
        type: object.constructor.name, isActor: isActor(object), attempts, parsed,
        json: await object.toJsonLd({ contextLoader: ctx.contextLoader }),
      });
    }
    case "POST /_control/follow": {
      const { actor, attempts } = await resolveHandle(ctx, input.handle);
      if (actor == null) return json({ error: `cannot resolve ${input.handle}`, attempts }, 502);
      const follow = new Follow({ id: new URL(`${me.href}#follows/${randomUUID()}`), actor: me, object: actor.id });
      following.set(actor.id.href, { follow: follow.id.href, state: "pending", inbox: actor.inboxId?.href });
      await send(ctx, actor, follow);
      return json({ follow: follow.id.href, actor: actor.id.href, inbox: actor.inboxId?.href, attempts });
    }
    case "POST /_control/unfollow": {
      const { actor, attempts } = await resolveHandle(ctx, input.handle);
      const f = actor == null ? undefined : following.get(actor.id.href);
      if (f == null) return json({ error: `not following ${input.handle}`, attempts }, 404);
      const undo = new Undo({
        id: new URL(`${me.href}#undos/${randomUUID()}`), actor: me,
        object: new Follow({ id: new URL(f.follow), actor: me, object: actor.id }),
      });
      following.delete(actor.id.href);
      await send(ctx, actor, undo);
      return json({ undo: undo.id.href });
    }
    case "POST /_control/post": {
      const recipients = new Map([...followers.values()].map((r) => [r.id.href, r]));
      const mentions = new Map();
      const lookups = [];
      for (const handle of input.to ?? []) {
        const { actor, attempts } = await resolveHandle(ctx, handle);
        lookups.push({ handle, attempts });
        if (actor == null) return json({ error: `cannot resolve ${handle}`, lookups }, 502);
        recipients.set(actor.id.href, actor);
        mentions.set(actor.id.href, `@${handle.replace(/^@/, "")}`);
      }
      if (input.inReplyTo) {
        // the replied-to author gets the reply too, as Mastodon does; if the note cannot be fetched,
        // the caller names its author in `to`
        try {
          const { author } = await lookupActorOf(ctx, input.inReplyTo);
          lookups.push({ inReplyTo: input.inReplyTo, author: author?.id?.href ?? null });
          if (author != null) recipients.set(author.id.href, author);
        } catch (e) {
          lookups.push({ inReplyTo: input.inReplyTo, error: String(e) });
        }
      }
      const id = randomUUID();
      const noteId = ctx.getObjectUri(Note, { identifier: IDENTIFIER, id });
      const note = new Note({
        id: noteId,
        attribution: me,
        content: input.content ?? "",
        mediaType: "text/html",
        published: Temporal.Now.instant(),
        replyTarget: input.inReplyTo ? new URL(input.inReplyTo) : null,
        url: noteId,
        tos: [PUBLIC_COLLECTION, ...[...mentions.keys()].map((uri) => new URL(uri))],
        ccs: [ctx.getFollowersUri(IDENTIFIER)],
        tags: [...mentions].map(([uri, name]) => new Mention({ href: new URL(uri), name })),
      });
      notes.set(noteId.href, note);
      audiences.set(noteId.href, [...recipients.values()]);
      const create = new Create({
        id: new URL(`${noteId.href}#create`),
        actor: me, object: note, tos: note.toIds, ccs: note.ccIds, published: note.published,
      });
      if (recipients.size > 0) await send(ctx, [...recipients.values()], create);
      return json({ id: noteId.href, activity: create.id.href, recipients: [...recipients.keys()], lookups });
    }
    case "POST /_control/like": {
      const { object, author } = await lookupActorOf(ctx, input.object);
      if (object == null || author == null) return json({ error: `cannot fetch ${input.object}` }, 502);
      const like = new Like({ id: new URL(`${me.href}#likes/${randomUUID()}`), actor: me, object: object.id,
        to: author.id });
      await send(ctx, author, like);
      return json({ like: like.id.href });
    }
    case "POST /_control/delete": {
      const note = notes.get(input.id);
      if (note == null) return json({ error: `no note ${input.id}` }, 404);
      notes.delete(input.id);
      const del = new Delete({
        id: new URL(`${input.id}#delete`), actor: me, tos: note.toIds, ccs: note.ccIds,
        object: new Tombstone({ id: note.id }),
      });
      const recipients = audiences.get(input.id) ?? [];
      if (recipients.length > 0) await send(ctx, recipients, del);
      return json({ delete: del.id.href });
    }
    default:
      return json({ error: "no such control endpoint" }, 404);
  }
}

// --- HTTP: node:http <-> fetch API --------------------------------------------------------------------

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const url = new URL(req.url, `http://${req.headers.host ?? `127.0.0.1:${server.address().port}`}`);
    const request = new Request(url, {
      method: req.method, headers, body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
    });
    let response;
    if (url.pathname.startsWith("/_control/")) {
      response = await control(request, body);
    } else {
      response = await federation.fetch(request, { contextData: undefined });
    }
    const responseBody = Buffer.from(await response.arrayBuffer());
    if (req.method === "POST" && /\/inbox$/.test(url.pathname)) {
      inboxRequests.push({
        at: now(), path: url.pathname, status: response.status,
        response: responseBody.toString("utf8").slice(0, 2000),
        contentType: headers.get("content-type"),
        scheme: headers.has("signature-input") ? "rfc9421" : headers.has("signature") ? "cavage" : null,
        signature: headers.get("signature"), signatureInput: headers.get("signature-input"),
        digest: headers.get("digest"), contentDigest: headers.get("content-digest"),
        body: body.toString("utf8"),
      });
    }
    log(`${req.method} ${url.pathname}${url.search} -> ${response.status}`);
    res.writeHead(response.status, [...response.headers].flat());
    res.end(responseBody);
  } catch (e) {
    log(`error handling ${req.method} ${req.url}: ${e?.stack ?? e}`);
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(e) }));
  }
});

server.listen(requestedPort, "127.0.0.1", () => {
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
