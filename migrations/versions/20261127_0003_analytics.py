"""analytics rollups and reports (issue 6)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 05:15:00
"""
from collections.abc import Sequence

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('disparity_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('rollup_version', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disparity_reports')),
    sa.UniqueConstraint('key', name=op.f('uq_disparity_reports_key'))
    )
    op.create_table('rollup_state',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('watermark', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_rollup_state'))
    )
    op.create_table('learning_days',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('statements', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.Column('attempted', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Float(), nullable=False),
    sa.Column('score_n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_learning_days_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_learning_days_school_id_organisations')),
    sa.PrimaryKeyConstraint('person_id', 'day', name=op.f('pk_learning_days'))
    )
    op.create_index('ix_learning_days_school_day', 'learning_days', ['school_id', 'day'], unique=False)
    op.create_table('school_weeks',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('school_days', sa.Integer(), nullable=False),
    sa.Column('pupils', sa.Integer(), nullable=False),
    sa.Column('enrolled_days', sa.Integer(), nullable=False),
    sa.Column('active_days', sa.Integer(), nullable=False),
    sa.Column('active3', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.Column('attempted', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('scored', sa.Integer(), nullable=False),
    *[sa.Column(f'h{i}', sa.Integer(), nullable=False) for i in range(10)],
    sa.ForeignKeyConstraint(['school_id'], ['organisations.id'], name=op.f('fk_school_weeks_school_id_organisations')),
    sa.PrimaryKeyConstraint('school_id', 'week', name=op.f('pk_school_weeks'))
    )
    op.create_index('ix_school_weeks_week', 'school_weeks', ['week'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_school_weeks_week', table_name='school_weeks')
    op.drop_table('school_weeks')
    op.drop_index('ix_learning_days_school_day', table_name='learning_days')
    op.drop_table('learning_days')
    op.drop_table('rollup_state')
    op.drop_table('disparity_reports')
