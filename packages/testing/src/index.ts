export { createTestDatabase, testConnection, type TestDatabase } from './database';
export { startSmtpServer, type SmtpCapture, type ReceivedMail } from './smtp';
export { http, type HttpResult } from './http';
export { testNamespace } from './namespace';
export { eventually, truthy, type EventuallyOptions } from './eventually';
export { processAlive, groupAlive, freePort } from './processes';
export { dropDatabasesWithPrefix, deleteNamespaceTopology } from './leftovers';
