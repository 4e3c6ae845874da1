export { linksTo, OperationContract, ProblemStatus, SuccessResponse } from './api-contract.decorator';
export { ClosedSchema } from './closed-schema.decorator';
export { buildContractDocument } from './contract-document';
export { ApiController, Endpoint } from './endpoint.decorator';
export { PROBLEM_CONTENT_TYPE, ProblemSchema } from './problem.schema';
