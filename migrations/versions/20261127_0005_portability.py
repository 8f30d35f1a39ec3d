"""portability packages and signing keys (issue 5)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 05:15:00
"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trusted_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_trusted_keys_kid'))
    )
    op.create_table('org_signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('private_key_pkcs8', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_org_signing_keys_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_signing_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_org_signing_keys_kid'))
    )
    op.create_index(op.f('ix_org_signing_keys_org_id'), 'org_signing_keys', ['org_id'], unique=False)
    op.create_table('transfer_exports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('counts', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['background_jobs.id'], name=op.f('fk_transfer_exports_job_id_background_jobs')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_transfer_exports_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_transfer_exports_person_id_people')),
    sa.ForeignKeyConstraint(['requested_by_account_id'], ['accounts.id'], name=op.f('fk_transfer_exports_requested_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_exports'))
    )
    op.create_index(op.f('ix_transfer_exports_job_id'), 'transfer_exports', ['job_id'], unique=False)
    op.create_index(op.f('ix_transfer_exports_person_id'), 'transfer_exports', ['person_id'], unique=False)
    op.create_table('transfer_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('export_id', sa.String(length=36), nullable=False),
    sa.Column('source_org_code', sa.String(length=64), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('receipt', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['background_jobs.id'], name=op.f('fk_transfer_imports_job_id_background_jobs')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_transfer_imports_org_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_transfer_imports_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_imports'))
    )
    op.create_index(op.f('ix_transfer_imports_job_id'), 'transfer_imports', ['job_id'], unique=False)
    op.create_table('transfer_export_chunks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('export_id', sa.String(length=36), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['export_id'], ['transfer_exports.id'], name=op.f('fk_transfer_export_chunks_export_id_transfer_exports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_export_chunks'))
    )
    op.create_index(op.f('ix_transfer_export_chunks_export_id'), 'transfer_export_chunks', ['export_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_transfer_export_chunks_export_id'), table_name='transfer_export_chunks')
    op.drop_table('transfer_export_chunks')
    op.drop_index(op.f('ix_transfer_imports_job_id'), table_name='transfer_imports')
    op.drop_table('transfer_imports')
    op.drop_index(op.f('ix_transfer_exports_person_id'), table_name='transfer_exports')
    op.drop_index(op.f('ix_transfer_exports_job_id'), table_name='transfer_exports')
    op.drop_table('transfer_exports')
    op.drop_index(op.f('ix_org_signing_keys_org_id'), table_name='org_signing_keys')
    op.drop_table('org_signing_keys')
    op.drop_table('trusted_keys')
