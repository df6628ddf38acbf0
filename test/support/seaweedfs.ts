import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import getPort from 'get-port';
import { loadEnv } from '../../src/config/env.js';
import { createProgress } from '../../src/stack/progress.js';
import { locateSeaweedfs } from '../../src/stack/seaweedfs.js';
import { watchChild } from './child-output.js';

export interface TestS3 {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  bucket: string;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and removes its data. */
  stop(): Promise<void>;
}

/**
 * A real S3-compatible server of the test's own: SeaweedFS (master, volume, filer and S3 gateway in one
 * process) on free ports with a temporary data directory, one identity whose signatures it checks, and a
 * bucket. Built from Go modules into the user cache the first time (src/stack/seaweedfs.ts).
 */
export async function startSeaweedS3(bucket = 'arena-artifacts'): Promise<TestS3> {
  const env = loadEnv();
  const weed = await locateSeaweedfs({
    pathEnv: process.env.ARENA_SEAWEEDFS_PATH,
    cacheDir: env.cacheDir,
    progress: createProgress(process.stderr, 30_000),
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'arena-seaweedfs-'));
  const credentials = { accessKeyId: 'arena-test', secretAccessKey: 'arena-test-secret-key-0123456789' };
  await mkdir(path.join(dir, 'data'));
  const config = path.join(dir, 's3.json');
  await writeFile(
    config,
    JSON.stringify({
      identities: [
        {
          name: 'arena',
          credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
      ],
    }),
  );
  // Every port explicit: SeaweedFS's defaults (9333, 8080, 8888, 8333 and +10000 for gRPC) collide with
  // other services and with a second test run.
  const port = async () => getPort();
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = [
    await port(),
    await port(),
    await port(),
    await port(),
    await port(),
    await port(),
    await port(),
    await port(),
  ];
  const child = spawn(
    weed,
    [
      'server',
      `-dir=${path.join(dir, 'data')}`,
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      `-master.port=${master}`,
      `-master.port.grpc=${masterGrpc}`,
      `-volume.port=${volume}`,
      `-volume.port.grpc=${volumeGrpc}`,
      '-volume.max=4',
      '-filer',
      `-filer.port=${filer}`,
      `-filer.port.grpc=${filerGrpc}`,
      `-filer.localSocket=${path.join(dir, 'filer.sock')}`,
      '-s3',
      `-s3.port=${s3}`,
      `-s3.port.grpc=${s3Grpc}`,
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      `-s3.config=${config}`,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const watched = watchChild(child, 20_000);
  const endpoint = `http://127.0.0.1:${s3}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  const stop = async () => {
    client.destroy();
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await watched.exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  // Ready once the gateway answers a signed request and a volume takes writes (a bucket can be created).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await client
      .send(new ListBucketsCommand({}))
      .then(() => client.send(new CreateBucketCommand({ Bucket: bucket })))
      .then(
        () => true,
        (err: Error) => (err.name === 'BucketAlreadyOwnedByYou' ? true : false),
      );
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`SeaweedFS (${weed}) did not become ready on ${endpoint}: ${watched.output()}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { endpoint, credentials, bucket, stop };
}
