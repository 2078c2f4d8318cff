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
import logging

from oslo_config import cfg

LOG = logging.getLogger(__name__)

GROUP = 'host_status'

OPTS = [
    cfg.StrOpt(
        'policy_file',
        help='Policy file the filter reads where the caller\'s context is '
             'not Nova\'s (a pipeline outside nova-api) and that `check` '
             'reads. Unset, the file the service itself uses, '
             '[oslo_policy] policy_file. Inside nova-api, Nova\'s own '
             'enforcer decides, from Nova\'s policy file.'),
]

_IGNORED = ('ignored: the filter reads host_status from Nova\'s own '
            'records, with Nova\'s own code, and keeps no copy of them')
_NOVA_DECIDES = ('ignored: Nova\'s servicegroup API decides, with Nova\'s '
                 '[DEFAULT] service_down_time')

# Accepted for one release, with one warning each, then removed.
DEPRECATED_OPTS = [
    cfg.IntOpt('service_down_time', deprecated_for_removal=True,
               deprecated_reason=_NOVA_DECIDES, help='No longer used.'),
] + [
    opt_type(name, deprecated_for_removal=True, deprecated_reason=_IGNORED,
             help='No longer used.', **extra)
    for opt_type, name, extra in [
        (cfg.FloatOpt, 'service_cache_time', {}),
        (cfg.FloatOpt, 'stale_if_error', {}),
        (cfg.FloatOpt, 'lease_time', {}),
        (cfg.StrOpt, 'cache_namespace', {}),
        (cfg.StrOpt, 'memcache_security_strategy', {}),
        (cfg.StrOpt, 'memcache_secret_key', {'secret': True}),
    ]
]

# Keys a paste section may carry besides the options: the configuration
# object to read, handed over by code that builds the pipeline itself.
CONFIG_OBJECT = 'oslo_config_config'


def list_opts():
    """The options, for ``oslo-config-generator``."""
    return [(GROUP, copy.deepcopy(OPTS + DEPRECATED_OPTS))]


class Settings(object):
    """The filter's settings for one paste section."""

    def __init__(self, local_conf):
        local_conf = dict(local_conf)
        self.conf = local_conf.pop(CONFIG_OBJECT, None) or cfg.CONF
        self.conf.register_opts(OPTS + DEPRECATED_OPTS, group=GROUP)
        options = {opt.dest: opt for opt in OPTS + DEPRECATED_OPTS}
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
        self.deprecated = self._deprecated_in_use()

    def _deprecated_in_use(self):
        """The deprecated settings this deployment still sets.

        A paste value gets one warning here; a configuration file value
        gets oslo.config's own, when it is read.
        """
        found = []
        for opt in DEPRECATED_OPTS:
            if opt.dest in self._paste:
                LOG.warning('nova-hoststatus paste setting %s is deprecated '
                            'for removal and %s.', opt.dest,
                            opt.deprecated_reason)
            elif self.conf[GROUP][opt.dest] is None:
                continue
            found.append(opt.dest)
        return found

    @property
    def policy_file(self):
        if 'policy_file' in self._paste:
            return self._paste['policy_file']
        return self.conf[GROUP].policy_file
