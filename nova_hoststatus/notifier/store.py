# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""The last host_status told of each host, shared by every agent.

Nova's ``service.update`` carries no old values and is also sent for a
save that changed nothing, and several agents may see the same change
(one from the queue, another on its scan). Each change is told once
because telling it starts with a compare-and-set on this table: the agent
whose ``UPDATE ... WHERE generation = <the one it read>`` changes a row
owns the change and sends it; every other agent sees the row already
moved. The row stays undelivered until its sender is done, so a change
whose sender died is taken over once its claim is older than
``claim_timeout``.

Its own database (``[host_status_notifier] connection``), never Nova's.
"""

import datetime
import time

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from nova_hoststatus.notifier import changes

_METADATA = sa.MetaData()
HOSTS = sa.Table(
    'host_status_told', _METADATA,
    sa.Column('host', sa.String(255), primary_key=True),
    sa.Column('host_status', sa.String(16), nullable=False),
    sa.Column('old_host_status', sa.String(16), nullable=True),
    sa.Column('generation', sa.Integer, nullable=False),
    sa.Column('delivered', sa.Boolean, nullable=False),
    # Seconds since the epoch, compared for equality and subtracted: a
    # double everywhere (sa.Float is MySQL's 4-byte FLOAT, which keeps
    # today's time.time() to about two minutes).
    sa.Column('claimed_at', sa.Double, nullable=False),
    # With its microseconds on MySQL too, so that a change taken over
    # carries the moment its first sender told.
    sa.Column('changed_at', sa.DateTime().with_variant(
        mysql.DATETIME(fsp=6), 'mysql', 'mariadb'), nullable=False),
)


class Store(object):
    """The table, on an SQLAlchemy URL; created if absent."""

    def __init__(self, url, clock=time.time):
        if url.startswith('sqlite'):
            self._engine = _sqlite_engine(url)
        else:
            self._engine = sa.create_engine(url, pool_pre_ping=True)
        self._clock = clock
        try:
            _METADATA.create_all(self._engine)
        except sa.exc.DatabaseError:
            # Another agent, started at the same moment, created it first.
            if not sa.inspect(self._engine).has_table(HOSTS.name):
                raise

    def close(self):
        self._engine.dispose()

    def told(self):
        """``{host: (host_status, delivered)}`` of every host seen."""
        with self._engine.connect() as conn:
            return {row.host: (row.host_status, row.delivered)
                    for row in conn.execute(sa.select(
                        HOSTS.c.host, HOSTS.c.host_status,
                        HOSTS.c.delivered))}

    def claim(self, host, read, claim_timeout):
        """Own the change of ``host`` to what ``read()`` says now, if there
        is one to tell and no other agent owns it: a
        :class:`changes.Change`, or None.

        ``read()`` gives the host's host_status from Nova, or None when it
        has none. It is called while the host's row is locked, so the
        reads of one host by all agents are ordered: a read that started
        before the last change was claimed can never claim after it, and
        tell an owner a state its host has already left.

        A host seen for the first time is recorded, not told: the agent
        tells changes from the moment it first saw the host.
        """
        try:
            return self._claim(host, read, claim_timeout)
        except sa.exc.IntegrityError:
            return None  # another agent saw the host first, just now

    def _claim(self, host, read, claim_timeout):
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(HOSTS).where(HOSTS.c.host == host)
                .with_for_update()).first()
            observed = read()
            now = self._clock()
            if observed is None:
                return None
            if row is None:
                conn.execute(sa.insert(HOSTS), [self._first(host, observed,
                                                            now)])
                return None
            if row.host_status == observed:
                if row.delivered or now - row.claimed_at < claim_timeout:
                    return None
                # Its sender died before it was done: tell it again.
                moved = conn.execute(
                    sa.update(HOSTS)
                    .where(HOSTS.c.host == host,
                           HOSTS.c.generation == row.generation,
                           HOSTS.c.claimed_at == row.claimed_at,
                           HOSTS.c.delivered.is_(False))
                    .values(claimed_at=now))
                if moved.rowcount != 1:
                    return None
                return changes.Change(host, row.old_host_status, observed,
                                      row.generation, row.changed_at)
            changed_at = _utc(now)
            moved = conn.execute(
                sa.update(HOSTS)
                .where(HOSTS.c.host == host,
                       HOSTS.c.generation == row.generation)
                .values(host_status=observed,
                        old_host_status=row.host_status,
                        generation=row.generation + 1, delivered=False,
                        claimed_at=now, changed_at=changed_at))
            if moved.rowcount != 1:
                return None
            return changes.Change(host, row.host_status, observed,
                                  row.generation + 1, changed_at)

    def delivered(self, change):
        """Mark ``change`` told; a later change of the host stays owed."""
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(HOSTS)
                .where(HOSTS.c.host == change.host,
                       HOSTS.c.generation == change.generation)
                .values(delivered=True))

    def release(self, change):
        """Give ``change`` back untold, for the next look to tell at once."""
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(HOSTS)
                .where(HOSTS.c.host == change.host,
                       HOSTS.c.generation == change.generation,
                       HOSTS.c.delivered.is_(False))
                .values(claimed_at=0.0))

    def _first(self, host, observed, now):
        return {'host': host, 'host_status': observed,
                'old_host_status': None, 'generation': 0,
                'delivered': True, 'claimed_at': now,
                'changed_at': _utc(now)}


def _utc(timestamp):
    """``timestamp`` as a naive UTC datetime, as the table keeps it."""
    return datetime.datetime.fromtimestamp(
        timestamp, datetime.timezone.utc).replace(tzinfo=None)


def _sqlite_engine(url):
    """SQLite for agents on one machine (the sandbox, tests).

    Each transaction takes the write lock when it begins, so two agents'
    compare-and-sets queue behind each other instead of failing when both
    read first and then write.
    """
    engine = sa.create_engine(url, connect_args={'timeout': 30})

    @sa.event.listens_for(engine, 'connect')
    def _no_implicit_begin(dbapi_connection, record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, 'begin')
    def _begin_immediate(conn):
        conn.exec_driver_sql('BEGIN IMMEDIATE')

    return engine
