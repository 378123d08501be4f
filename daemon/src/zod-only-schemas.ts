import type { FastifyServerOptions } from 'fastify';

const refuse = (what: string) => (): never => {
  throw new Error(`a route declared a JSON schema ${what}; the daemon's routes check their input with zod in the handler, and Fastify's schema compilers are not loaded`);
};

/**
 * Fastify's `schemaController` for servers whose routes declare no JSON schema (every route here
 * parses its input with zod): compilers that refuse, so that Fastify never loads its default ones
 * (ajv with its formats and fast-json-stringify: ~50 ms of start-up and a few MB of an idle
 * daemon). A route that declares a schema fails when it is registered, with this reason.
 */
export const ZOD_ONLY_SCHEMAS: NonNullable<FastifyServerOptions['schemaController']> = {
  compilersFactory: {
    buildValidator: refuse('for validation'),
    buildSerializer: refuse('for serialisation'),
  },
};
