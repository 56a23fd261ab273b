export type { Actor, Expectation, ParityAuth, Rules, Scenario, Step, Target } from './scenario';
export { normaliseExchanges, shapeOf, DEFAULT_HEADERS, type Exchange, type NormalisedStep, type NormaliseOptions } from './normalise';
export { runScenarios, unmetExpectations, type Transcript } from './runner';
export { compareTargets, compareTranscripts, diffSteps, type ComparisonReport, type Difference, type ScenarioComparison } from './compare';
export { renderReport, sideBySide, describe, type RenderOptions } from './render';
export { getPath, parsePath, updatePath } from './paths';
export { gatewaySide, ROUTE_HEADER, TOKEN_HEADER, type GatewaySideOptions } from './gateway';
