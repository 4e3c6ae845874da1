import { getMetadataStorage, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { finishDocument } from './contract-document';
import { schemaPatch } from './validator-constraints';

class Sample {
  @IsString()
  @Matches(/^[a-z]{1,8}$/)
  name!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(9)
  count?: number;

  @IsOptional()
  @IsIn(['a', 'b'])
  kind?: string;

  @IsString({ each: true })
  @Length(1, 4, { each: true })
  tags!: string[];
}

function rulesOf(property: string): ValidationMetadata[] {
  return getMetadataStorage()
    .getTargetValidationMetadatas(Sample, '', false, false)
    .filter((m) => m.propertyName === property);
}

describe('schemaPatch (validators → OpenAPI)', () => {
  it('copies types, patterns, bounds, enums and required-ness from class-validator', () => {
    expect(schemaPatch(rulesOf('name'))).toEqual({ type: 'string', pattern: '^[a-z]{1,8}$', required: true });
    expect(schemaPatch(rulesOf('count'))).toEqual({ type: 'integer', minimum: 1, maximum: 9, required: false });
    expect(schemaPatch(rulesOf('kind'))).toEqual({ enum: ['a', 'b'], required: false });
  });

  it('puts `each` rules on the array items', () => {
    expect(schemaPatch(rulesOf('tags'))).toMatchObject({ type: 'array', items: { type: 'string', minLength: 1, maxLength: 4 }, required: true });
  });
});

describe('finishDocument', () => {
  const doc = (): OpenAPIObject => ({
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    components: { schemas: { Sample: { type: 'object', properties: {} } } },
    paths: {
      '/health/live': { get: { 'x-public': true, responses: { 200: { description: 'up' } } } as never },
      '/api/v1/things/{id}': {
        put: {
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'idempotency-key', in: 'header', schema: { type: 'string' } },
            { name: 'Idempotency-Key', in: 'header', required: true, description: 'documented', schema: { type: 'string' } },
          ],
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Sample' } } } },
          responses: { 202: { description: 'ok' }, 409: { description: 'Conflict' } },
        },
      },
    },
  });

  it('gives open routes `security: []` and secured ones the errors their guard, input and path imply', () => {
    const out = finishDocument(doc(), new Set(['Sample']));
    const live = out.paths['/health/live'].get!;
    expect(live.security).toEqual([]);
    expect(live).not.toHaveProperty('x-public');
    const put = out.paths['/api/v1/things/{id}'].put!;
    expect(Object.keys(put.responses).sort()).toEqual(['202', '400', '401', '403', '404', '409', '414', '415', '429', '503']);
    for (const s of ['400', '409', '415']) {
      expect((put.responses[s] as { content: object }).content).toEqual({
        'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
      });
    }
  });

  it('keeps one header parameter per name and closes validated schemas', () => {
    const out = finishDocument(doc(), new Set(['Sample']));
    const headers = (out.paths['/api/v1/things/{id}'].put!.parameters as { in: string; description?: string }[]).filter((p) => p.in === 'header');
    expect(headers).toEqual([expect.objectContaining({ name: 'Idempotency-Key', description: 'documented' })]);
    expect(out.components!.schemas!.Sample).toMatchObject({ additionalProperties: false });
  });
});
