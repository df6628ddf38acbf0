# The Arena worker/CLI image used by docker-compose.yml. Untested here (no Docker engine on the dev machines).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The worker bundles workflows from dist/workflows at start-up.
USER node
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["worker"]
