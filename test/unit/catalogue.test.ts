import { expect } from 'chai';
import { ACTION_PATTERN } from '../../src/events/schema.ts';
import {
  describe as describeEvent,
  EVENT_CATALOGUE,
  EVENT_TYPES,
  isDestructive,
} from '../../src/events/catalogue.ts';

describe('event catalogue', () => {
  it('holds every type of the spec, each well-formed for the ingest schema', () => {
    expect(EVENT_CATALOGUE).to.have.length(47);
    expect(EVENT_TYPES).to.have.length(166);
    expect(EVENT_TYPES).to.have.length(new Set(EVENT_TYPES).size);
    expect(EVENT_TYPES).to.include.members([
      'workflow.created',
      'organization.session_policy.updated',
      'org_member.usage_limit_changed',
      'invoice.payment_succeeded',
      'workspace.fork_rolled_back',
    ]);
    for (const type of EVENT_TYPES) expect(type).to.match(new RegExp(ACTION_PATTERN));
  });

  it('writes the example sentence of the spec', () => {
    expect(
      describeEvent({
        action: 'workflow.created',
        resourceType: 'workflow',
        resourceName: 'Customer Onboarding',
      }),
    ).to.equal('Created workflow "Customer Onboarding"');
  });

  it('uses readable resource labels and falls back from name to id to nothing', () => {
    expect(
      describeEvent({
        action: 'knowledge_base.deleted',
        resourceType: 'knowledge_base',
        resourceName: 'Docs',
      }),
    ).to.equal('Deleted knowledge base "Docs"');
    expect(
      describeEvent({ action: 'api_key.revoked', resourceType: 'api_key', resourceId: 'key_1' }),
    ).to.equal('Revoked API key key_1');
    expect(describeEvent({ action: 'organization.sessions.revoked', resourceType: 'organization' })).to.equal(
      'Revoked organization sessions',
    );
    expect(
      describeEvent({ action: 'member.role_changed', resourceType: 'member', resourceName: 'Ada' }),
    ).to.equal('Changed the role of member "Ada"');
    expect(
      describeEvent({ action: 'workflow.fork_sync_excluded', resourceType: 'workflow', resourceName: 'W' }),
    ).to.equal('Excluded workflow "W" from fork sync');
    expect(
      describeEvent({ action: 'password.reset_requested', resourceType: 'password', resourceName: 'a@b.c' }),
    ).to.equal('Requested a password reset for "a@b.c"');
    expect(describeEvent({ action: 'billing.overage_billed', resourceType: 'billing' })).to.equal(
      'Billed usage overage',
    );
  });

  it('has a past-tense sentence without raw identifiers for every catalogued type', () => {
    for (const type of EVENT_TYPES) {
      const resourceType = type.split('.')[0]!;
      const text = describeEvent({ action: type, resourceType, resourceName: 'X' });
      expect(text, type).not.to.match(/^Recorded/);
      expect(text.replace('"X"', ''), type).not.to.match(/_/);
      expect(text, type).to.match(/^[A-Z]/);
      expect(text, type).to.include('X');
    }
  });

  it('writes a generic sentence for unknown types', () => {
    expect(describeEvent({ action: 'widget.archived', resourceType: 'widget', resourceName: 'W1' })).to.equal(
      'Archived widget "W1"',
    );
    expect(
      describeEvent({ action: 'report_card.frobnicate', resourceType: 'report_card', resourceId: 'r9' }),
    ).to.equal('Recorded "report_card.frobnicate" on report card r9');
  });

  it('marks destructive actions, by type or bare action', () => {
    for (const t of [
      'workflow.deleted',
      'member.removed',
      'api_key.revoked',
      'oauth.disconnected',
      'subscription.cancelled',
      'org_seat.deprovisioned',
      'invitation.rejected',
      'rejected',
    ]) {
      expect(isDestructive(t), t).to.equal(true);
    }
    for (const t of ['workflow.created', 'file.downloaded', 'member.role_changed', 'created']) {
      expect(isDestructive(t), t).to.equal(false);
    }
  });
});
