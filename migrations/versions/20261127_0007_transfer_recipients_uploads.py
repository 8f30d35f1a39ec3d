"""transfer: the recipient and purpose of an export (consent where data leaves, issue 8), and
uploaded packages kept in chunks (imports of any size, issue 5)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 08:20:00
"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('transfer_exports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_kind', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('recipient_org_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('purpose', sa.String(length=32), server_default='transfer', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_transfer_exports_recipient_org_id_organisations'), 'organisations', ['recipient_org_id'], ['id'])

    op.create_table('transfer_upload_chunks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['background_jobs.id'], name=op.f('fk_transfer_upload_chunks_job_id_background_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_upload_chunks'))
    )
    op.create_index(op.f('ix_transfer_upload_chunks_job_id'), 'transfer_upload_chunks', ['job_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_transfer_upload_chunks_job_id'), table_name='transfer_upload_chunks')
    op.drop_table('transfer_upload_chunks')
    with op.batch_alter_table('transfer_exports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_transfer_exports_recipient_org_id_organisations'), type_='foreignkey')
        batch_op.drop_column('purpose')
        batch_op.drop_column('recipient_org_id')
        batch_op.drop_column('recipient_kind')
