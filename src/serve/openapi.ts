/**
 * The OpenAPI 3.1 document of `hardy-mer serve` (GET /openapi.json), built from the same JSON
 * Schema objects the server validates requests with (schema.ts). test/serve/openapi.test.ts checks
 * that every route the server answers is documented and that real answers match their schemas.
 */
import type { PredictorInfo } from './predictor.ts';
import { requestSchemas, responseSchemas, schemaContext, type Schema } from './schema.ts';

export interface DocumentOptions {
  maxUtterances: number;
  maxBodyBytes: number;
  /** A bearer token is required (on every route but /health, /ready and the page's static files). */
  auth: boolean;
  version: string;
}

const json = (schema: Schema) => ({ 'application/json': { schema } });

export function openApiDocument(info: PredictorInfo, o: DocumentOptions): Schema {
  const req = requestSchemas(schemaContext(info, o.maxUtterances));
  const res = responseSchemas(info);
  const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
  const unavailable = {
    description: 'models still loading, queue full or deadline passed; retry after `Retry-After` seconds',
    headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 } } },
    content: json({ $ref: '#/components/schemas/Error' }),
  };
  const secured = o.auth ? { security: [{ bearer: [] }], responses401: { 401: error('missing or wrong bearer token') } } : { security: [], responses401: {} };
  const get = (summary: string, schema: Schema, extra: Record<string, unknown> = {}, open = false) => ({
    get: {
      summary,
      ...(open ? { security: [] } : { security: secured.security }),
      responses: { 200: { description: 'OK', content: json(schema) }, ...(open ? {} : secured.responses401), ...extra },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'hardy-mer serve',
      version: o.version,
      description:
        `Multimodal emotion recognition with missing modalities (${info.task}${info.classNames.length ? `: ${info.classNames.join(', ')}` : ''}). ` +
        `Conditions with a trained model: ${info.models.map((m) => m.condition).join(', ')}.`,
    },
    ...(o.auth ? { security: [{ bearer: [] }] } : {}),
    paths: {
      '/predict': {
        post: {
          summary: 'Predict emotions for utterances with any subset of modalities',
          description:
            `Body at most ${o.maxBodyBytes} bytes. Also checked: utterance ids unique, at most ${o.maxUtterances} utterances, ` +
            'values finite as float32, each utterance supplies the modalities of an explicit `condition`, a model exists for each condition used.',
          security: secured.security,
          requestBody: { required: true, content: json({ $ref: '#/components/schemas/PredictRequest' }) },
          responses: {
            200: { description: 'one prediction per utterance, in request order', content: json({ $ref: '#/components/schemas/PredictResponse' }) },
            400: error('invalid request; the message names the utterance and what was expected'),
            ...secured.responses401,
            413: error('body too large'),
            503: unavailable,
          },
        },
      },
      '/models': get('The task, class names, feature lengths and the models per condition', res.models, { 503: unavailable }),
      '/health': get('Liveness and load: answered by the main thread, also while predictions run', res.health, {}, true),
      '/ready': get('200 once the models are loaded, else 503', { type: 'object', properties: { ready: { const: true } } }, { 503: unavailable }, true),
      '/openapi.json': get('This document', { type: 'object' }, { 503: unavailable }),
    },
    components: {
      schemas: {
        PredictRequest: req.request,
        PredictResponse: res.predictResponse,
        Prediction: res.prediction,
        Models: res.models,
        Health: res.health,
        Error: res.error,
      },
      ...(o.auth ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: '`hardy-mer serve --token` or HARDY_MER_TOKEN' } } } : {}),
    },
  };
}
