/** Who is making a request, as authentication (src/http/auth.ts) resolved it from an API key or token. */
export type Principal =
  | { kind: 'personal'; keyId: string; orgId: string; userId: string; keyCreatedAt: string }
  | {
      kind: 'workspace';
      keyId: string;
      orgId: string;
      workspaceId: string;
      createdBy: string;
      keyCreatedAt: string;
    }
  | { kind: 'ingest'; keyId: string; orgId?: string }
  | { kind: 'operator' };
