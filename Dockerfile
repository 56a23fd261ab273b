# One image for every Banyan process: the compose service's command picks the workspace entry,
# e.g. `node -r @banyan/telemetry/register gateway/dist/main.js`.
# Node 24 LTS, the line the code runs on everywhere: `npm ci` below also installs it as the `node`
# devDependency for the build's npm scripts, and the runtime stage (devDependencies pruned) uses
# the image's own, so the two must be the same line. Keep it in step with .nvmrc and `engines`.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The whole context at once: npm workspaces spread package.json files over many folders, and
# listing each one for a dependency-only layer would rot as workspaces are added. The price is
# a full `npm ci` when any source changes; .dockerignore keeps the context small.
COPY . .
RUN npm ci --no-audit --no-fund
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and run as `node`: the process can read its code but not change it.
COPY --from=build /app /app
USER node
EXPOSE 3000 3101 3102 3103 3104 3105 3106 8080 8081
CMD ["node", "-r", "@banyan/telemetry/register", "monolith/dist/main.js"]
