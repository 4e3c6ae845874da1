import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

/** One entry of a validation failure: which field, and what is wrong with it. */
@ApiSchema({ name: 'FieldProblem' })
export class FieldProblemSchema {
  @ApiProperty({ example: 'score' })
  field!: string;

  @ApiProperty({ example: 'score must be an integer number' })
  message!: string;
}

/**
 * The one error body of every operation: RFC 9457 problem details as ProblemDetailsFilter writes
 * them. Extra members a module adds (e.g. `retryAfterSeconds`) are allowed.
 */
@ApiSchema({ name: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' })
export class ProblemSchema {
  @ApiProperty({ example: 'urn:tetrad:problem:validation_failed', description: '`about:blank` or `urn:tetrad:problem:<code>`' })
  type!: string;

  @ApiProperty({ example: 'Bad Request' })
  title!: string;

  @ApiProperty({ example: 400, minimum: 400, maximum: 599 })
  status!: number;

  @ApiProperty({ example: '1 field(s) failed validation' })
  detail!: string;

  @ApiProperty({ example: 'validation_failed', description: 'stable, machine-readable error code' })
  code!: string;

  @ApiProperty({ example: '/api/v1/leaderboards', description: 'the request path' })
  instance!: string;

  @ApiProperty({ example: '0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b', description: 'the X-Request-Id of the request' })
  requestId!: string;

  @ApiPropertyOptional({ type: [FieldProblemSchema], description: 'validation failures, one per field and rule' })
  errors?: FieldProblemSchema[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
