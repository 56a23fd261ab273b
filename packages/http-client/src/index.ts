export { createBreaker, type BreakerOptions, type Breaker } from './breaker';
export { jsonPoster, RemoteFailure, type JsonPosterOptions } from './post-json';
