"""voting: keys, merkle tree, checkpoints, credentials, ballots

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate may reference sqlmodel.sql.sqltypes
from alembic import op


revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ballot_seq',
    sa.Column('election_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('credential', sa.LargeBinary(length=32), nullable=False),
    sa.Column('group', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_ballot_seq_election_id_election')),
    sa.PrimaryKeyConstraint('election_id', 'credential', name=op.f('pk_ballot_seq'))
    )
    op.create_table('issuer_key',
    sa.Column('election_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('group', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('jwk', sa.Text(), nullable=False),
    sa.Column('private_key_enc', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_issuer_key_election_id_election')),
    sa.PrimaryKeyConstraint('election_id', 'group', name=op.f('pk_issuer_key'))
    )
    op.create_table('log_checkpoint',
    sa.Column('election_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('root', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_log_checkpoint_election_id_election')),
    sa.PrimaryKeyConstraint('election_id', 'size', name=op.f('pk_log_checkpoint'))
    )
    op.create_table('log_key',
    sa.Column('election_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('private_key_enc', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_log_key_election_id_election')),
    sa.PrimaryKeyConstraint('election_id', name=op.f('pk_log_key'))
    )
    op.create_table('log_node',
    sa.Column('election_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_log_node_election_id_election')),
    sa.PrimaryKeyConstraint('election_id', 'level', 'idx', name=op.f('pk_log_node'))
    )
    op.create_table('voting_keys',
    sa.Column('election_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sealing_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('trustees_k', sa.Integer(), nullable=False),
    sa.Column('trustees_n', sa.Integer(), nullable=False),
    sa.Column('ballot_size', sa.Integer(), nullable=False),
    sa.Column('log_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_voting_keys_election_id_election')),
    sa.PrimaryKeyConstraint('election_id', name=op.f('pk_voting_keys'))
    )
    op.create_table('credential_issuance',
    sa.Column('election_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('group', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('blinded_msg', sa.LargeBinary(), nullable=False),
    sa.Column('blind_sig', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_credential_issuance_election_id_election')),
    sa.ForeignKeyConstraint(['voter_id'], ['voter.id'], name=op.f('fk_credential_issuance_voter_id_voter')),
    sa.PrimaryKeyConstraint('election_id', 'voter_id', name=op.f('pk_credential_issuance'))
    )


def downgrade() -> None:
    op.drop_table('credential_issuance')
    op.drop_table('voting_keys')
    op.drop_table('log_node')
    op.drop_table('log_key')
    op.drop_table('log_checkpoint')
    op.drop_table('issuer_key')
    op.drop_table('ballot_seq')
