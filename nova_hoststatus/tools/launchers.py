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

"""Nova's compute API under uWSGI with several workers.

Production nova-api runs as several worker processes.  This module runs
that setup on loopback for the multi-worker test, ``drill --workers`` and
the workers benchmark: uWSGI as DevStack runs Nova's API (master,
``--lazy-apps``), with each worker on a port of its own (``--map-socket``)
so that a caller chooses the worker of each request, over the databases of
a :class:`~nova_hoststatus.tools.sandbox.NovaSandbox`, which every worker
reads.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time

UWSGI_MISSING = ("uWSGI is not installed in this environment; from the "
                 "source tree: pip install '.[nova,workers]' (uWSGI builds "
                 "from source: it needs a C compiler)")


class Missing(RuntimeError):
    """A program the multi-worker setup needs is not installed."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _wait_for_port(port, proc, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('%s exited with %s' % (what, proc.returncode))
        try:
            socket.create_connection(('127.0.0.1', port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('%s did not listen on port %d within %d s'
                       % (what, port, timeout))


def stop(proc, timeout=15, whole_group=False):
    """Stop a process started in a session of its own (its group holds
    only what it started): SIGTERM to it, or with ``whole_group`` to every
    process of its group, then SIGKILL to the group if any lingers.
    """
    if proc is None:
        return
    if proc.poll() is None:
        try:
            if whole_group:
                os.killpg(proc.pid, signal.SIGTERM)
            else:
                proc.terminate()
            proc.wait(timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def uwsgi_binary():
    """uWSGI from this Python environment, else from the PATH."""
    binary = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
    if os.access(binary, os.X_OK):
        return binary
    binary = shutil.which('uwsgi')
    if not binary:
        raise Missing(UWSGI_MISSING)
    return binary


def _with_this_python(env):
    """``env`` for a uWSGI that embeds the Python running this code.

    uWSGI loads libpython by its soname, found first on its build's own
    library path. A uWSGI built for another Python of the same version (a
    wheel that pip built for pyenv's Python 3.11 and cached, installed
    here for Debian's) would load that one's library over this Python's
    standard library, and fail to import from it. This Python's library
    folder goes first.
    """
    libdir = sysconfig.get_config_var('LIBDIR')
    library = sysconfig.get_config_var('INSTSONAME')
    if libdir and library and os.path.exists(os.path.join(libdir, library)):
        env['LD_LIBRARY_PATH'] = os.pathsep.join(
            filter(None, [libdir, env.get('LD_LIBRARY_PATH')]))
    return env


class Uwsgi(object):
    """Nova's compute API under uWSGI, one port per worker.

    :param config_dir: a folder with ``nova.conf`` and ``api-paste.ini``
        (see :meth:`NovaSandbox.config_dir`).
    :param workers: the number of worker processes.
    :param threads: the threads of each worker (uWSGI's ``--threads``);
        1, the default, runs each worker single-threaded.
    """

    def __init__(self, config_dir, workers, binary=None, threads=1):
        self.binary = binary or uwsgi_binary()
        self.config_dir = config_dir
        self.threads = threads
        self.ports = [free_port() for _ in range(workers)]
        self.log = os.path.join(config_dir, 'uwsgi.log')
        self._proc = None

    def start(self, timeout=180):
        """Start the master and its workers; return once each one answers.
        """
        cmd = [self.binary, '--master', '--processes', str(len(self.ports)),
               '--lazy-apps', '--enable-threads', '--need-app',
               '--die-on-term', '--disable-logging', '--logto', self.log,
               '--virtualenv', sys.prefix,
               '--module', 'nova.wsgi.osapi_compute:application']
        if self.threads > 1:
            cmd += ['--threads', str(self.threads)]
        for number, port in enumerate(self.ports):
            cmd += ['--http-socket', '127.0.0.1:%d' % port,
                    '--map-socket', '%d:%d' % (number, number + 1)]
        env = _with_this_python(dict(os.environ,
                                     OS_NOVA_CONFIG_DIR=self.config_dir))
        self._proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL,
                                      start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            for port in self.ports:
                _wait_for_port(port, self._proc, timeout, 'uWSGI')
                while call(port, 'GET', '/', {}).status != 200:
                    if time.monotonic() > deadline:
                        raise RuntimeError('uWSGI worker on port %d never '
                                           'answered; see %s'
                                           % (port, self.log))
                    time.sleep(0.2)
        except Exception:
            self.stop()
            raise

    def worker_pids(self):
        """The process ids of the workers (the master's children)."""
        if self._proc is None:
            return []
        pid = self._proc.pid
        path = '/proc/%d/task/%d/children' % (pid, pid)
        with open(path) as f:
            return [int(pid) for pid in f.read().split()]

    def stop(self):
        stop(self._proc)
        self._proc = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class Response(object):
    """Status and decoded JSON body of one HTTP call."""

    def __init__(self, status, body):
        self.status = status
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return '<Response %s %s>' % (self.status, self.body[:300])


def call(port, method, path, headers, body=None, timeout=60):
    """One request to the worker on ``port``; a refused connection is 0."""
    if path != '/' and not path.startswith('/v2'):
        path = '/v2.1' + path
    data = None
    headers = dict(headers)
    if body is not None:
        data = json.dumps(body).encode()
        headers['Content-Type'] = 'application/json'
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return Response(resp.status, resp.read())
    except ConnectionError:
        return Response(0, b'')
    finally:
        conn.close()
