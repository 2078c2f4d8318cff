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

"""The ``pipeline`` check: the filter's place in ``api-paste.ini``.

:class:`PasteConfig` reads the paste file as PasteDeploy does and resolves
every filter and app to the factory it loads, so that filters are told
apart by what they are, not by what an operator named them;
:func:`check_pipeline` judges where the filter sits in every pipeline that
ends in Nova's compute API.
"""

import configparser
import importlib.metadata
import re

from oslo_config import cfg

from nova_hoststatus import conf
from nova_hoststatus.tools.checks import result

PIPELINE = 'pipeline'

FILTER_FACTORY = 'nova_hoststatus.middleware:filter_factory'
FILTER_USE = 'egg:nova-hoststatus#hoststatus'
# The filters that put the caller's context into the request: Nova's
# keystonecontext, and the noauth2 of Nova releases that still have it.
CONTEXT_FACTORIES = frozenset([
    'nova.api.auth:NovaKeystoneContext.factory',
    'nova.api.openstack.auth:NoAuthMiddleware.factory',
])
API_FACTORY = 'nova.api.openstack.compute:APIRouterV21.factory'
# The app nova-api loads from api-paste.ini, and the URLs that matter in it.
URLMAP = 'osapi_compute'
V21 = '/v2.1'
LEGACY_V2 = '/v2'


def entry_point(dist, group, name):
    """``module:attr`` of an installed entry point, or None."""
    try:
        points = importlib.metadata.distribution(dist).entry_points
    except importlib.metadata.PackageNotFoundError:
        return None
    for point in points:
        if point.group == group and point.name == name:
            return point.value
    return None


def _meant_ours(factory):
    """Whether a factory that is not the filter's was meant to be."""
    if factory.startswith('egg:'):
        dist = factory[len('egg:'):].partition('#')[0].strip().lower()
        return re.sub(r'[-_.]+', '-', dist) == 'nova-hoststatus'
    return factory.startswith(FILTER_FACTORY.split(':')[0] + ':')


def _normal_path(path):
    return path.rstrip('+').rstrip('/') or '/'


class PasteConfig(object):
    """``api-paste.ini`` as PasteDeploy reads it, as far as the checks need.

    A name in a pipeline or a ``use`` is resolved to the factory it loads
    (``module:attr``), so that filters are told apart by what they are, not
    by what an operator named them.  ``resolve(dist, group, name)`` answers
    ``egg:`` references; by default from the installed entry points.

    Raises configparser.Error when the text does not parse.
    """

    def __init__(self, text, resolve=entry_point):
        # PasteDeploy's own parser: '=' or ':' between key and value, keys
        # case-sensitive (they are URL paths in a urlmap), no inline
        # comments, a duplicate key an error.
        self._parser = configparser.ConfigParser(interpolation=None)
        self._parser.optionxform = str
        self._parser.read_string(text)
        self._resolve = resolve

    def _items(self, kind, name):
        section = '%s:%s' % (kind, name)
        if not self._parser.has_section(section):
            return None
        defaults = self._parser.defaults()
        return {key: value for key, value in self._parser.items(section)
                if key not in defaults}

    def filters(self):
        """The names of every filter section."""
        return [section.split(':', 1)[1].strip()
                for section in self._parser.sections()
                if section.startswith('filter:')]

    def local_conf(self, name):
        """The settings PasteDeploy hands the factory of ``filter:name``."""
        items = self._items('filter', name) or {}
        local = {}
        for key, value in items.items():
            if key.startswith('get '):
                local[key[4:].strip()] = self._parser.defaults().get(
                    value.strip(), '')
            elif key not in ('use', 'paste.filter_factory') and \
                    not key.startswith('set '):
                local[key] = value
        return local

    def _factory(self, kind, name, seen=()):
        """What ``kind:name`` loads: ``module:attr``, the unresolved
        ``use`` value, or None when there is no such section.
        """
        items = self._items(kind, name)
        if items is None or name in seen:
            return None
        group = 'paste.%s_factory' % kind
        if items.get(group):
            return items[group].strip()
        use = items.get('use', '').strip()
        if use.startswith('call:'):
            return use[len('call:'):].strip()
        if use.startswith('egg:'):
            dist, _, point = use[len('egg:'):].partition('#')
            return self._resolve(dist.strip(), group,
                                 point.strip() or 'main') or use
        if use and ':' not in use:
            return self._factory(kind, use, seen + (name,))
        return use or None

    def filter_factory(self, name):
        return self._factory('filter', name)

    def app_factory(self, name):
        return self._factory('app', name)

    def ours(self):
        """The filter sections that load this project's filter."""
        return [name for name in self.filters()
                if self.filter_factory(name) == FILTER_FACTORY]

    def urlmap(self):
        """``[(path, name)]`` of the urlmap nova-api loads, or None."""
        items = self._items('composite', URLMAP)
        if items is None:
            return None
        return [(_normal_path(path), value.strip())
                for path, value in items.items() if path.startswith('/')]

    def pipelines(self, name):
        """``[(where, [element, ...])]``: the pipelines ``name`` builds.

        A composite of Nova's ``pipeline_factory`` holds one pipeline per
        auth strategy (``keystone``; ``noauth2`` in older releases); an app
        mapped without a pipeline is a pipeline of one.
        """
        items = self._items('composite', name)
        if items is not None:
            if 'pipeline_factory' not in items.get('use', ''):
                return []
            return [('[composite:%s] %s' % (name, key), value.split())
                    for key, value in items.items() if key != 'use']
        items = self._items('pipeline', name)
        if items is not None:
            return [('[pipeline:%s] pipeline' % name,
                     items.get('pipeline', '').split())]
        return [('[app:%s]' % name, [name])]

    def api_pipelines(self, path):
        """The pipelines that end in Nova's compute API under ``path``.

        Pipelines that end in another app (the version documents Nova
        maps at the same URLs) carry no server views.
        """
        found = []
        for mapped, name in self.urlmap() or ():
            if mapped != path:
                continue
            for where, elements in self.pipelines(name):
                if elements and self.app_factory(elements[-1]) == API_FACTORY:
                    found.append((where, elements))
        return found

    def in_use(self):
        """The filter section the ``/v2.1`` API runs, else the first one."""
        ours = self.ours()
        for _, elements in self.api_pipelines(V21):
            for element in elements[:-1]:
                if element in ours:
                    return element
        return ours[0] if ours else None


def _settings_errors(local_conf):
    """Why paste settings are invalid, one reason for each bad setting (the
    filter itself stops at the first); empty when they are valid.
    """
    def error(settings):
        try:
            conf.Settings(dict(settings,
                               **{conf.CONFIG_OBJECT: cfg.ConfigOpts()}))
        except ValueError as exc:
            return str(exc)
        return None

    errors = [error({name: value})
              for name, value in sorted(local_conf.items())]
    errors = [e for e in errors if e]
    if not errors:
        # Settings that are each valid and wrong together.
        errors = [e for e in [error(local_conf)] if e]
    return errors


def _tail(elements, start):
    shown = elements[start:]
    return ' '.join((['...'] if start > 0 else []) + shown)


def check_pipeline(paste, path=None, config_dirs=(), named=None):
    """The filter sits where it sees the caller, in every ``/v2.1`` API.

    After the context filter (``keystonecontext``), so that it has the
    caller's Nova context, whose enforcer decides who sees host_status;
    before the application, so that it sees Nova's responses.  Not in the
    legacy ``/v2`` API, which Nova answers at 2.1, with no version header:
    there the filter adds no host_status and may answer a bad force-down
    body that Nova would not even route (a Warning, not a Failure: no
    response a caller relies on changes).

    ``path`` is the paste file read, as ``[wsgi] api_paste_config``
    names it (``named``); one outside ``config_dirs``, the directories of
    the configuration files, is a Warning: a copy of a deployment may be
    checking its original's paste file.
    """
    found = result.Findings(PIPELINE)
    if path:
        found.note('paste file: %s' % path)
        if result.outside(path, config_dirs):
            result.read_outside(found, 'paste file', path, config_dirs,
                                '[wsgi] api_paste_config', named or path,
                                '--api-paste-config', 'api-paste.ini')
    ours = paste.ours()
    name = paste.in_use() or 'hoststatus'
    for section in paste.filters():
        factory = paste.filter_factory(section) or ''
        if section not in ours and _meant_ours(factory):
            found.problem(
                result.Code.FAILURE,
                '[filter:%s] names nova-hoststatus but loads %s, not its '
                'filter' % (section, factory),
                'set "use = %s" in [filter:%s]' % (FILTER_USE, section))
    if not ours:
        found.problem(
            result.Code.FAILURE, 'no filter section loads %s' % FILTER_FACTORY,
            'add [filter:hoststatus] with "use = %s"' % FILTER_USE)

    if paste.urlmap() is None:
        found.problem(result.Code.FAILURE,
                      'no [composite:%s]: nova-api loads its API from it'
                      % URLMAP,
                      "restore Nova's [composite:%s]" % URLMAP)
        return found.result()
    v21 = paste.api_pipelines(V21)
    if not v21:
        found.problem(result.Code.FAILURE,
                      'no pipeline ending in the compute API is mapped at '
                      '%s in [composite:%s]' % (V21, URLMAP),
                      "restore Nova's %s pipeline" % V21)
    for where, elements in v21:
        _place(found, paste, ours, name, where, elements)
    for where, elements in paste.api_pipelines(LEGACY_V2):
        if any(element in ours for element in elements):
            found.problem(
                result.Code.WARNING,
                '%s (legacy %s) has the filter: Nova answers %s at 2.1, '
                'where it adds nothing' % (where, LEGACY_V2, LEGACY_V2),
                'remove %s from %s' % (name, where))
        else:
            found.note('%s (legacy %s): without the filter, as it should be'
                       % (where, LEGACY_V2))

    for section in ours:
        settings = paste.local_conf(section)
        errors = _settings_errors(settings)
        for error in errors:
            found.problem(result.Code.FAILURE,
                          '[filter:%s]: %s' % (section, error),
                          'correct or remove %s in [filter:%s]' % (
                              'that setting' if len(errors) == 1
                              else 'those settings', section))
        if not errors:
            found.note('[filter:%s] loads %s; its settings: %s' % (
                section, FILTER_FACTORY,
                ', '.join('%s = %s' % item for item in sorted(
                    settings.items())) or 'none'))
    return found.result()


def _place(found, paste, ours, name, where, elements):
    """Judge the filter's place in one ``/v2.1`` API pipeline."""
    factories = [paste.filter_factory(element) for element in elements[:-1]]
    for element, factory in zip(elements, factories):
        if factory is None:
            found.problem(result.Code.FAILURE,
                          '%s names %s, which has no [filter:%s]'
                          % (where, element, element),
                          'define [filter:%s] or remove it from %s'
                          % (element, where))
    at = [i for i, element in enumerate(elements[:-1]) if element in ours]
    contexts = [i for i, factory in enumerate(factories)
                if factory in CONTEXT_FACTORIES]
    context = elements[contexts[0]] if contexts else 'keystonecontext'
    if not at:
        found.problem(result.Code.FAILURE, '%s: the filter is missing' % where,
                      'add %s right after %s in %s' % (name, context, where))
        return
    if not contexts:
        found.problem(result.Code.FAILURE,
                      "%s: no context filter (keystonecontext) puts the "
                      "caller's context before the filter" % where,
                      'put keystonecontext before %s in %s' % (name, where))
    elif at[0] < contexts[0]:
        found.problem(
            result.Code.FAILURE,
            "%s: %s comes before %s, so it never sees Nova's context of "
            "the caller: %s" % (where, elements[at[0]], context,
                                _tail(elements, at[0])),
            'move %s right after %s in %s' % (elements[at[0]], context,
                                              where))
    else:
        found.note('%s: %s' % (where, _tail(elements, contexts[0])))
    if len(at) > 1:
        found.problem(result.Code.WARNING, '%s: the filter is in it %d times'
                      % (where, len(at)),
                      'keep one %s in %s' % (name, where))
