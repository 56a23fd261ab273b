export { createHttpApp, finishHttpApp, type HttpAppOptions } from './app';
export { problemHandler, notFoundHandler, sendProblem } from './problems';
export { parse, type Parsed } from './validate';
export { serve, listenServer, type Served } from './serve';
export { onShutdown, installShutdownHandlers } from './shutdown';
export { encodeCursor, decodeCursor } from './cursor';
