"""LTI 1.3 tool (issue 7)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 05:15:00
"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lti_tool_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_tool_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_lti_tool_keys_kid'))
    )
    op.create_table('lti_platforms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('auth_login_url', sa.String(length=1000), nullable=False),
    sa.Column('token_url', sa.String(length=1000), nullable=False),
    sa.Column('jwks_url', sa.String(length=1000), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('unknown_users', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_lti_platforms_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_platforms')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_lti_platforms_issuer_client_id'))
    )
    op.create_index(op.f('ix_lti_platforms_org_id'), 'lti_platforms', ['org_id'], unique=False)
    op.create_table('lti_deployments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_lti_deployments_org_id_organisations')),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_deployments_platform_id_lti_platforms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_deployments')),
    sa.UniqueConstraint('platform_id', 'deployment_id', name=op.f('uq_lti_deployments_platform_id_deployment_id'))
    )
    op.create_table('lti_handoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=1000), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lti_handoffs_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_handoffs')),
    sa.UniqueConstraint('ticket_hash', name=op.f('uq_lti_handoffs_ticket_hash'))
    )
    op.create_index(op.f('ix_lti_handoffs_expires_at'), 'lti_handoffs', ['expires_at'], unique=False)
    op.create_table('lti_login_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('target_link_uri', sa.String(length=1000), nullable=False),
    sa.Column('login_params', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_login_states_platform_id_lti_platforms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_login_states')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_lti_login_states_state_hash'))
    )
    op.create_index(op.f('ix_lti_login_states_expires_at'), 'lti_login_states', ['expires_at'], unique=False)
    op.create_table('lti_nonces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce_hash', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_nonces_platform_id_lti_platforms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_nonces')),
    sa.UniqueConstraint('nonce_hash', name=op.f('uq_lti_nonces_nonce_hash'))
    )
    op.create_index(op.f('ix_lti_nonces_expires_at'), 'lti_nonces', ['expires_at'], unique=False)
    op.create_table('lti_contexts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('memberships_url', sa.String(length=1000), nullable=True),
    sa.Column('lineitems_url', sa.String(length=1000), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_lti_contexts_org_id_organisations')),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_contexts_platform_id_lti_platforms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_contexts')),
    sa.UniqueConstraint('platform_id', 'deployment_id', 'context_id', name=op.f('uq_lti_contexts_platform_id_deployment_id_context_id'))
    )
    op.create_index(op.f('ix_lti_contexts_org_id'), 'lti_contexts', ['org_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_lti_contexts_org_id'), table_name='lti_contexts')
    op.drop_table('lti_contexts')
    op.drop_index(op.f('ix_lti_nonces_expires_at'), table_name='lti_nonces')
    op.drop_table('lti_nonces')
    op.drop_index(op.f('ix_lti_login_states_expires_at'), table_name='lti_login_states')
    op.drop_table('lti_login_states')
    op.drop_index(op.f('ix_lti_handoffs_expires_at'), table_name='lti_handoffs')
    op.drop_table('lti_handoffs')
    op.drop_table('lti_deployments')
    op.drop_index(op.f('ix_lti_platforms_org_id'), table_name='lti_platforms')
    op.drop_table('lti_platforms')
    op.drop_table('lti_tool_keys')
