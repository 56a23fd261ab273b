'use strict';
// The peer: what a team writes in ten minutes. express + http-proxy-middleware with its
// defaults (no keep-alive agent, default plugins), no routing logic at all.
const express = require('express');
const { createProxyMiddleware } = require('http-proxy-middleware');

const [port, target] = process.argv.slice(2);
const app = express();
app.use(createProxyMiddleware({ target, changeOrigin: true, logger: undefined }));
app.listen(Number(port), '127.0.0.1', () => process.send?.('ready'));
