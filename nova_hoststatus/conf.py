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

"""Settings: paste values over ``[host_status]`` options, typed by option.

Every paste setting is also an oslo.config option, so an operator can use
either; a value in the paste section wins. Paste values are read through the
option's type and never written into the configuration object, which in
nova-api is Nova's own global one.
"""

import copy

from oslo_config import cfg

GROUP = 'host_status'
# Nova's own default for [DEFAULT] service_down_time.
NOVA_SERVICE_DOWN_TIME = 60

OPTS = [
    cfg.StrOpt(
        'policy_file',
        help='Policy file to read the host_status rules from. Unset, the '
             'filter reads the file the service itself uses, '
             '[oslo_policy] policy_file, so that Nova and the filter agree.'),
    cfg.IntOpt(
        'service_down_time',
        min=1,
        help='Seconds since its last heartbeat after which a compute '
             'service counts as down (host_status UNKNOWN). Unset, the '
             'service\'s [DEFAULT] service_down_time is used, or %d.'
             % NOVA_SERVICE_DOWN_TIME),
    cfg.FloatOpt(
        'service_cache_time',
        default=3.0,
        min=0,
        help='Seconds the list of compute services is reused before it is '
             'fetched again (in the background where a listing takes over '
             '0.2 s, while requests go on with the list they have). In a '
             'large cloud the interval grows so '
             'that listing takes at most a tenth of one worker\'s time, '
             'and never past half of service_down_time. Bounds how long a '
             'change made behind the API (not through this filter) takes '
             'to show; changes made through the filter show at once. 0 '
             'fetches on every request.'),
    cfg.FloatOpt(
        'stale_if_error',
        default=30.0,
        min=0,
        help='Seconds past its refresh interval that the last list of '
             'compute services keeps serving while Nova cannot be asked '
             'for a new one; after that every value is UNKNOWN. Failed '
             'lookups are retried with exponential back-off (1 s to 30 '
             's).'),
    cfg.FloatOpt(
        'lease_time',
        default=30.0,
        min=1,
        help='With a shared [cache]: seconds one API worker holds the '
             'lease to list compute services for every worker of the '
             'deployment; at least twice the last listing\'s duration. '
             'The others keep serving what they have meanwhile; one that '
             'has nothing to serve waits for three times the listing the '
             'holder expects (the whole lease time for a first listing), '
             'then takes the lease over.'),
    cfg.StrOpt(
        'cache_namespace',
        help='With a shared [cache]: what sets this deployment\'s keys '
             'apart from those of other clouds sharing the memcached. '
             'Unset, a hash of Nova\'s [api_database] connection, which '
             'differs between clouds. Every API worker of one cloud must '
             'use the same.'),
    cfg.StrOpt(
        'memcache_security_strategy',
        default='None',
        choices=[('None', 'values are stored as they are'),
                 ('MAC', 'values are signed with memcache_secret_key; '
                         'unsigned or wrongly signed values are ignored')],
        ignore_case=True,
        help='With a shared [cache]: whether the filter signs what it '
             'stores, so that whoever can write to the memcached cannot '
             'make hosts look down or up.'),
    cfg.StrOpt(
        'memcache_secret_key',
        secret=True,
        help='The secret the MAC strategy signs with: the same on every '
             'API worker of the deployment.'),
]

# Keys a paste section may carry besides the options: the configuration
# object to read, handed over by code that builds the pipeline itself.
CONFIG_OBJECT = 'oslo_config_config'


def list_opts():
    """The options, for ``oslo-config-generator``."""
    return [(GROUP, copy.deepcopy(OPTS))]


class Settings(object):
    """The filter's settings for one paste section."""

    def __init__(self, local_conf):
        local_conf = dict(local_conf)
        self.conf = local_conf.pop(CONFIG_OBJECT, None) or cfg.CONF
        self.conf.register_opts(OPTS, group=GROUP)
        options = {opt.dest: opt for opt in OPTS}
        unknown = sorted(set(local_conf) - set(options))
        if unknown:
            raise ValueError(
                'Unknown nova-hoststatus paste setting(s): %s. Accepted: %s.'
                % (', '.join(unknown), ', '.join(sorted(options))))
        self._paste = {}
        for name, text in local_conf.items():
            try:
                self._paste[name] = options[name].type(text)
            except ValueError as exc:
                raise ValueError('Invalid nova-hoststatus paste setting '
                                 '%s = %r: %s' % (name, text, exc))

    def _get(self, name):
        if name in self._paste:
            return self._paste[name]
        return self.conf[GROUP][name]

    @property
    def policy_file(self):
        return self._get('policy_file')

    @property
    def service_cache_time(self):
        return self._get('service_cache_time')

    @property
    def stale_if_error(self):
        return self._get('stale_if_error')

    @property
    def lease_time(self):
        return self._get('lease_time')

    @property
    def cache_namespace(self):
        return self._get('cache_namespace')

    @property
    def cache_secret(self):
        """The secret to sign cached values with, None when unsigned."""
        strategy = self._get('memcache_security_strategy')
        if strategy is None or strategy.upper() != 'MAC':
            return None
        secret = self._get('memcache_secret_key')
        if not secret:
            raise ValueError('memcache_security_strategy = MAC needs '
                             'memcache_secret_key')
        return secret

    @property
    def service_down_time(self):
        value = self._get('service_down_time')
        if value is not None:
            return value
        try:
            return self.conf.service_down_time
        except cfg.NoSuchOptError:
            return NOVA_SERVICE_DOWN_TIME
