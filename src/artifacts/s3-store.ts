import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  ArtifactNotFoundError,
  artifactUri,
  digestOfUri,
  digestPath,
  sha256Hex,
  verifiedBytes,
  type ArtifactStore,
} from './store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (no leading or trailing slash needed). */
  prefix?: string;
  /** An S3-compatible server's URL (SeaweedFS, MinIO, Ceph); absent: AWS S3 in `region`. */
  endpoint?: string;
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need; default: with an endpoint. */
  forcePathStyle?: boolean;
  /** Absent: the AWS SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * Artifacts in an S3 bucket under `<prefix>/sha256/<first two hex digits>/<digest>`, with the same
 * location-free URIs as the local store (`arena-artifact://sha256/<digest>`), so moving a deployment's
 * store from disk to a bucket is a copy, not a change to the registry. The digest is checked on every read:
 * an object changed in the bucket is refused, as a changed file is.
 */
export function createS3ArtifactStore(
  opts: S3StoreOptions,
): ArtifactStore & { client: S3Client; keyOf(digest: string): string } {
  const config: S3ClientConfig = {
    region: opts.region ?? 'us-east-1',
    forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  };
  const client = new S3Client(config);
  const base = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const keyOf = (digest: string): string => `${base ? `${base}/` : ''}${digestPath(digest)}`;
  return {
    client,
    keyOf,
    async put(input) {
      const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
      const digest = sha256Hex(bytes);
      // A PUT of the same key with the same bytes is idempotent; readers never see a partial object.
      await client.send(
        new PutObjectCommand({
          Bucket: opts.bucket,
          Key: keyOf(digest),
          Body: bytes,
          ContentType: 'application/octet-stream',
          Metadata: { 'arena-sha256': digest },
        }),
      );
      return { uri: artifactUri(digest), digest };
    },
    async get(uri, expectedDigest) {
      const digest = digestOfUri(uri);
      let bytes: Uint8Array;
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: opts.bucket, Key: keyOf(digest) }));
        bytes = await res.Body!.transformToByteArray();
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey')
          throw new ArtifactNotFoundError(uri);
        throw err;
      }
      return verifiedBytes(uri, expectedDigest, bytes);
    },
  };
}
