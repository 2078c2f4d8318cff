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
             'fetched again. Bounds how long a change made behind the API '
             '(not through this filter) takes to show; changes made through '
             'the filter show at once. 0 fetches on every request.'),
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
    def service_down_time(self):
        value = self._get('service_down_time')
        if value is not None:
            return value
        try:
            return self.conf.service_down_time
        except cfg.NoSuchOptError:
            return NOVA_SERVICE_DOWN_TIME
