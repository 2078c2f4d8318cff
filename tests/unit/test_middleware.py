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

"""The filter over the fake compute API: what callers see, what Nova gets."""

import configparser
import logging
import os

import fixtures
import paste.deploy
import webob

from nova_hoststatus import middleware
from nova_hoststatus import policies
from nova_hoststatus import records
from tests.unit import base
from tests.unit import fakes

OWNER_RULE = {policies.SHOW_HOST_STATUS: 'rule:admin_or_owner'}
FORCE_DOWN = '/os-services/force-down'
ETC = os.path.join(os.path.dirname(__file__), '..', '..', 'etc')


class HostStatusViewsTest(base.FilterTestCase):
    """Every row of the status table, on show and detail."""

    def setUp(self):
        super().setUp()
        add = self.nova.add_service
        add(fakes.Service('up-host'))
        add(fakes.Service('stale-host', heartbeat_age=7200))
        add(fakes.Service('disabled-host', disabled=True))
        add(fakes.Service('disabled-stale-host', disabled=True,
                          heartbeat_age=7200))
        add(fakes.Service('forced-host', forced_down=True))
        add(fakes.Service('forced-disabled-host', forced_down=True,
                          disabled=True))
        self.expected = {'up': 'UP', 'stale': 'UNKNOWN',
                         'disabled': 'MAINTENANCE',
                         'disabled-stale': 'MAINTENANCE',
                         'forced': 'DOWN', 'forced-disabled': 'DOWN',
                         'nohost': '', 'orphan': ''}
        for name in self.expected:
            host = None if name == 'nohost' else '%s-host' % name
            self.nova.add_server(fakes.server(name, 'owner-project', host))

    def test_admin_detail(self):
        self.assertEqual(self.expected,
                         self.host_status_of('/servers/detail'))

    def test_admin_show(self):
        for name, value in self.expected.items():
            self.assertEqual({name: value},
                             self.host_status_of('/servers/%s' % name))

    def test_owner_with_admin_or_owner_sees_it_through_host_id(self):
        self.write_policy(OWNER_RULE)
        self.assertEqual(self.expected, self.host_status_of(
            '/servers/detail', caller=base.OWNER))

    def test_project_id_in_the_path(self):
        self.assertEqual({'up': 'UP'}, self.host_status_of(
            '/admin-project/servers/up'))

    def test_below_2_16_nothing_is_added_or_looked_up(self):
        self.assertEqual({name: None for name in self.expected},
                         self.host_status_of('/servers/detail',
                                             version='2.15'))
        self.assertEqual([], self.nova.lookups)

    def test_latest(self):
        self.assertEqual(self.expected, self.host_status_of(
            '/servers/detail', version='latest'))

    def test_no_host_name_is_added(self):
        self.write_policy(OWNER_RULE)
        resp = self.request('/servers/detail', caller=base.OWNER)
        for server in resp.json['servers']:
            self.assertEqual({'id', 'name', 'tenant_id', 'user_id', 'status',
                              'hostId', 'host_status'}, set(server))

    def test_cut_down_records_are_left_as_nova_sent_them(self):
        # From 2.69 a server in a down cell comes back without hostId; such
        # a record must not gain a host_status, for any caller.
        down_cell = {'id': 'in-down-cell', 'status': 'UNKNOWN',
                     'tenant_id': 'owner-project', 'links': []}
        self.nova.add_server(dict(down_cell, _host='up-host'))
        self.write_policy(OWNER_RULE)
        for caller in (base.ADMIN, base.OWNER):
            resp = self.request('/servers/detail', caller=caller,
                                version='2.69')
            listed = {s['id']: s for s in resp.json['servers']}
            self.assertEqual(down_cell, listed['in-down-cell'])
            self.assertEqual('UP', listed['up']['host_status'])
            resp = self.request('/servers/in-down-cell', caller=caller,
                                version='2.69')
            self.assertEqual(down_cell, resp.json['server'])

    def test_version_nova_answered_with_decides(self):
        # Nova's echoed version is the one it served: below 2.16 there is
        # no host_status, whatever the request asked for.
        def older_nova(environ, start_response):
            def start(status, headers, exc_info=None):
                headers = [(k, 'compute 2.15' if k == 'OpenStack-API-Version'
                            else v) for k, v in headers]
                return start_response(status, headers, exc_info)
            return self.nova(environ, start)
        app = self.make_filter()
        app.application = older_nova
        resp = self.request('/servers/up', app=app)
        self.assertNotIn('host_status', resp.json['server'])
        self.assertEqual([], self.nova.lookups)


class PolicyTest(base.FilterTestCase):

    def setUp(self):
        super().setUp()
        self.nova.add_service(fakes.Service('up-host'))
        self.nova.add_service(fakes.Service('stale-host',
                                            heartbeat_age=7200))
        self.nova.add_server(fakes.server('mine', 'owner-project', 'up-host'))
        self.nova.add_server(fakes.server('mine-stale', 'owner-project',
                                          'stale-host'))
        self.nova.add_server(fakes.server('theirs', 'other-project',
                                          'up-host', user_id='other-user'))

    def test_default_hides_it_from_owners_and_looks_nothing_up(self):
        self.assertEqual({'mine': None, 'mine-stale': None, 'theirs': None},
                         self.host_status_of('/servers/detail',
                                             caller=base.OWNER))
        self.assertEqual([], self.nova.lookups)

    def test_admin_or_owner_is_decided_per_server(self):
        self.write_policy(OWNER_RULE)
        self.assertEqual(
            {'mine': 'UP', 'mine-stale': 'UNKNOWN', 'theirs': None},
            self.host_status_of('/servers/detail', caller=base.OWNER))
        self.assertEqual(
            {'mine': None, 'mine-stale': None, 'theirs': 'UP'},
            self.host_status_of('/servers/detail', caller=base.STRANGER))

    def test_user_id_in_a_rule_never_matches(self):
        # The target is the server's project only, as in Nova.
        self.write_policy({policies.SHOW_HOST_STATUS:
                           'user_id:%(user_id)s'})
        self.assertEqual({'mine': None, 'mine-stale': None, 'theirs': None},
                         self.host_status_of('/servers/detail',
                                             caller=base.OWNER))

    def test_unknown_only(self):
        self.write_policy({policies.SHOW_UNKNOWN_ONLY: 'rule:admin_or_owner'})
        self.assertEqual(
            {'mine': None, 'mine-stale': 'UNKNOWN', 'theirs': None},
            self.host_status_of('/servers/detail', caller=base.OWNER))

    def test_policy_file_edit_applies_to_the_next_request(self):
        self.assertEqual({'mine': None}, self.host_status_of(
            '/servers/mine', caller=base.OWNER))
        self.write_policy(OWNER_RULE)
        self.assertEqual({'mine': 'UP'}, self.host_status_of(
            '/servers/mine', caller=base.OWNER))
        self.write_policy({})
        self.assertEqual({'mine': None}, self.host_status_of(
            '/servers/mine', caller=base.OWNER))

    def test_novas_own_value_is_removed_for_a_denied_caller(self):
        self.nova.servers['mine']['host_status'] = 'UP'
        self.assertEqual({'mine': None}, self.host_status_of(
            '/servers/mine', caller=base.OWNER))

    def test_novas_own_value_is_kept_for_a_permitted_caller(self):
        self.nova.servers['mine']['host_status'] = 'MAINTENANCE'
        self.assertEqual({'mine': 'MAINTENANCE'},
                         self.host_status_of('/servers/mine'))
        self.assertEqual([], self.nova.lookups)

    def test_broken_policy_file_leaves_the_key_out_not_the_response(self):
        with open(self.policy_path, 'w') as f:
            f.write('{"not json')
        self.nova.servers['mine']['host_status'] = 'UP'
        log = self.useFixture(fixtures.FakeLogger())
        resp = self.request('/servers/mine')
        self.assertEqual(200, resp.status_int)
        self.assertEqual('mine', resp.json['server']['id'])
        self.assertNotIn('host_status', resp.json['server'])
        self.assertIn('host_status could not be decided', log.output)


class UpdateAndRebuildTest(base.FilterTestCase):

    def setUp(self):
        super().setUp()
        self.nova.add_service(fakes.Service('up-host'))
        self.nova.add_server(fakes.server('vm', 'owner-project', 'up-host'))

    def status_after(self, method, path, version, body):
        resp = self.request(path, method=method, version=version, body=body)
        self.assertIn(resp.status_int, (200, 202))
        return resp.json['server'].get('host_status')

    def test_update_from_2_75(self):
        body = {'server': {'name': 'renamed'}}
        self.assertIsNone(self.status_after('PUT', '/servers/vm', '2.74',
                                            body))
        self.assertEqual('UP', self.status_after('PUT', '/servers/vm',
                                                 '2.75', body))

    def test_rebuild_from_2_75(self):
        body = {'rebuild': {'imageRef': 'image'}}
        self.assertIsNone(self.status_after(
            'POST', '/servers/vm/action', '2.74', body))
        self.assertEqual('UP', self.status_after(
            'POST', '/servers/vm/action', '2.75', body))

    def test_other_actions_are_not_touched(self):
        resp = self.request('/servers/vm/action', method='POST',
                            version='2.75', body={'reboot': {'type': 'SOFT'}})
        self.assertNotIn('host_status', resp.json['server'])
        self.assertEqual([], self.nova.lookups)


class NovaAnswerTest(base.FilterTestCase):
    """Nova's own value stands; the filter reads Nova's records only for
    the servers that lack one, once per response.
    """

    def setUp(self):
        super().setUp()
        self.hosts = [self.nova.add_service(fakes.Service('compute-%d' % i))
                      for i in range(10)]
        self.nova.add_service(fakes.Service('stale-host', heartbeat_age=7200))
        for i in range(1000):
            self.nova.add_server(fakes.server(
                'vm-%d' % i, 'project-%d' % (i % 7), 'compute-%d' % (i % 10),
                user_id='user-%d' % (i % 7)))

    def test_one_lookup_for_a_thousand_server_listing(self):
        values = self.host_status_of('/servers/detail')
        self.assertEqual(1000, len(values))
        self.assertEqual({'UP'}, set(values.values()))
        self.assertEqual([sorted(values)], [sorted(ids)
                                            for ids in self.nova.lookups])

    def test_only_servers_without_novas_value_are_looked_up(self):
        self.nova.servers['vm-1']['host_status'] = 'MAINTENANCE'
        self.nova.servers['vm-2']['hostId'] = ''
        self.nova.servers['vm-2']['_host'] = None
        values = self.host_status_of('/servers/detail')
        self.assertEqual(('MAINTENANCE', ''), (values['vm-1'],
                                               values['vm-2']))
        [looked_up] = self.nova.lookups
        self.assertEqual(998, len(looked_up))
        self.assertNotIn('vm-1', looked_up)
        self.assertNotIn('vm-2', looked_up)

    def test_every_change_shows_on_the_very_next_read(self):
        """Nothing is kept between requests: a change made behind the
        API, or through it, shows on the next read.
        """
        self.assertEqual({'vm-3': 'UP'}, self.host_status_of('/servers/vm-3'))
        self.hosts[3].disabled = True
        self.assertEqual({'vm-3': 'MAINTENANCE'},
                         self.host_status_of('/servers/vm-3'))
        resp = self.request(FORCE_DOWN, method='PUT', version='2.11',
                            body={'host': 'compute-3',
                                  'binary': 'nova-compute',
                                  'forced_down': True})
        self.assertEqual(200, resp.status_int)
        self.assertEqual({'vm-3': 'DOWN'},
                         self.host_status_of('/servers/vm-3'))
        self.hosts[3].forced_down = False
        self.hosts[3].disabled = False
        self.assertEqual({'vm-3': 'UP'}, self.host_status_of('/servers/vm-3'))

    def test_unknown_only_caller_on_an_up_host_gets_no_key(self):
        """Nova leaves the key out for an unknown-only caller whose host
        is not UNKNOWN; the filter's own reading agrees.
        """
        self.write_policy({policies.SHOW_UNKNOWN_ONLY: 'rule:admin_or_owner'})
        owner = dict(base.OWNER, project_id='project-3')
        self.nova.servers['vm-10']['_host'] = 'stale-host'
        self.nova.servers['vm-10']['hostId'] = fakes.host_id(
            'project-3', 'stale-host')
        for nova_values in (False, True):
            self.nova.nova_values = nova_values
            self.assertEqual({'vm-3': None}, self.host_status_of(
                '/servers/vm-3', caller=owner))
            self.assertEqual({'vm-10': 'UNKNOWN'}, self.host_status_of(
                '/servers/vm-10', caller=owner))


class FailureTest(base.FilterTestCase):
    """A failure to read Nova's records never fails the response."""

    def setUp(self):
        super().setUp()
        self.nova.add_service(fakes.Service('compute-1'))
        self.nova.add_server(fakes.server('vm', 'p', 'compute-1'))
        self.nova.add_server(fakes.server('hostless', 'p', None))
        self.nova.fail_lookups = True

    def test_servers_keep_what_nova_gave_them(self):
        log = self.useFixture(fixtures.FakeLogger())
        self.assertEqual({'vm': None, 'hostless': ''},
                         self.host_status_of('/servers/detail'))
        self.nova.servers['vm']['host_status'] = 'UP'
        self.assertEqual({'vm': 'UP', 'hostless': ''},
                         self.host_status_of('/servers/detail'))
        self.assertEqual(1, log.output.count("Nova's records could not be "
                                             "read (RuntimeError"))

    def test_a_hostless_server_is_empty_for_the_owner_too(self):
        self.write_policy(OWNER_RULE)
        self.assertEqual({'hostless': ''}, self.host_status_of(
            '/servers/hostless', caller=dict(base.OWNER, project_id='p')))


class NovaRecordsTest(base.FilterTestCase):

    def test_the_paste_filter_reads_novas_records(self):
        app = middleware.filter_factory(
            {}, oslo_config_config=self.conf)(self.nova)
        self.assertIsInstance(app._lookup, records.NovaRecords)


class PassThroughTest(base.FilterTestCase):
    """What the filter does not handle reaches the caller as Nova sent it."""

    def setUp(self):
        super().setUp()
        self.nova.add_service(fakes.Service('compute-1'))
        self.nova.add_server(fakes.server('vm', 'p', 'compute-1'))

    def assertSameAsNova(self, path, **kwargs):
        direct = self.request(path, app=self.nova, **kwargs)
        filtered = self.request(path, **kwargs)
        self.assertEqual(direct.status, filtered.status)
        self.assertEqual(direct.headerlist, filtered.headerlist)
        self.assertEqual(direct.body, filtered.body)
        return filtered

    def test_untouched_requests(self):
        for path, kwargs in [
                ('/servers', {}),
                ('/servers', {'method': 'POST', 'body': {'server': {}}}),
                ('/os-services', {}),
                ('/servers/missing', {}),
                ('/servers/detail', {'version': '2.999'}),
                ('/servers/detail', {'version': '2.x'}),
                ('/flavors', {}),
                ('/servers/vm/os-interface', {})]:
            self.assertSameAsNova(path, **kwargs)

    def test_unhandled_requests_are_not_buffered(self):
        events = []

        def streaming(environ, start_response):
            start_response('200 OK', [('Content-Type', 'text/plain')])
            for chunk in (b'a', b'b'):
                events.append('sent %s' % chunk.decode())
                yield chunk
        app = self.make_filter()
        app.application = streaming
        environ = webob.Request.blank('/flavors').environ
        body = app(environ, lambda status, headers, exc_info=None: None)
        self.assertEqual([], events)
        self.assertEqual(b'a', next(iter(body)))
        self.assertEqual(['sent a'], events)

    def test_host_status_on_a_non_json_response_is_not_attempted(self):
        def text_app(environ, start_response):
            start_response('200 OK', [('Content-Type', 'text/plain'),
                                      ('OpenStack-API-Version',
                                       'compute 2.16')])
            return [b'not json']
        app = self.make_filter()
        app.application = text_app
        resp = self.request('/servers/vm', app=app)
        self.assertEqual(b'not json', resp.body)


class ForceDownTest(base.FilterTestCase):

    def setUp(self):
        super().setUp()
        self.service = self.nova.add_service(fakes.Service('compute-1'))

    def put(self, path, body, version):
        return self.request(path, method='PUT', version=version, body=body)

    def assertRejected(self, resp, message, version):
        self.assertEqual(400, resp.status_int)
        self.assertEqual('application/json; charset=UTF-8',
                         resp.headers['Content-Type'])
        self.assertEqual({'badRequest': {'code': 400, 'message': message}},
                         resp.json)
        self.assertEqual('compute %s' % version,
                         resp.headers['OpenStack-API-Version'])
        self.assertEqual(version,
                         resp.headers['X-OpenStack-Nova-API-Version'])
        self.assertEqual(['OpenStack-API-Version',
                          'X-OpenStack-Nova-API-Version'],
                         resp.headers.getall('Vary'))
        self.assertEqual(0, self.nova.count('PUT', FORCE_DOWN))
        self.assertFalse(self.service.forced_down)

    def test_a_rejected_body_is_logged_on_one_printable_line(self):
        """A lone surrogate or a line break in the body can neither break
        the log handler's encoding nor forge a log line.
        """
        log = self.useFixture(fixtures.FakeLogger(
            name='nova_hoststatus.middleware', level=logging.INFO))
        resp = self.put(FORCE_DOWN, {'host': '\ud800\nINFO forged',
                                     'binary': 'nova-compute',
                                     'forced_down': True}, '2.11')
        self.assertEqual(400, resp.status_int)
        self.assertEqual(0, self.nova.count('PUT', FORCE_DOWN))
        [line] = log.output.splitlines()
        self.assertTrue(line.startswith('Rejected PUT %s: ' % FORCE_DOWN))
        self.assertIn('\\ud800\\nINFO forged', line)
        line.encode('utf-8')

    def test_a_force_down_reads_no_records(self):
        """The fault monitor's call goes straight to Nova; the newest
        microversion comes from Nova's own constant or version document.
        """
        for forced in (True, False):
            resp = self.request('/os-services/%s' % self.service.id,
                                method='PUT', version='2.53',
                                body={'forced_down': forced})
            self.assertEqual(200, resp.status_int)
        resp = self.request('/os-services/%s' % self.service.id,
                            method='PUT', version='latest',
                            body={'forced_down': 'maybe'})
        self.assertEqual(400, resp.status_int)
        self.assertEqual([], self.nova.lookups)
        self.assertEqual(2, len([c for c in self.nova.calls
                                 if c[0] == 'PUT']))

    def test_valid_body_is_passed_on_byte_for_byte(self):
        raw = b'{ "host":"compute-1", "binary":"nova-compute",' \
              b' "forced_down":"yes" }'
        resp = self.put(FORCE_DOWN, raw, '2.11')
        self.assertEqual(200, resp.status_int)
        self.assertEqual([('PUT', FORCE_DOWN, raw)],
                         [c for c in self.nova.calls if c[0] == 'PUT'])

    def test_invalid_bodies_at_2_11(self):
        for raw, message in [
                (b'', "None is not of type 'object'"),
                (b'{"host": "compute-1",', 'Malformed request body'),
                (b'\xff\xfe', 'Malformed request body'),
                (b'["compute-1"]', "['compute-1'] is not of type 'object'"),
                (b'{"host": "compute 1", "binary": "nova-compute", '
                 b'"forced_down": true}',
                 "Invalid input for field/attribute host. Value: compute 1. "
                 "'compute 1' does not match '^[a-zA-Z0-9-._]*$'"),
                (b'{"host": "compute-1", "binary": "nova-compute", '
                 b'"forced_down": true, "force": true}',
                 "Additional properties are not allowed ('force' was "
                 "unexpected)")]:
            self.assertRejected(self.put(FORCE_DOWN, raw, '2.11'), message,
                                '2.11')

    def test_invalid_body_at_2_53(self):
        resp = self.put('/os-services/%s' % self.service.id,
                        {'host': 'compute-1', 'binary': 'nova-compute',
                         'forced_down': True}, '2.53')
        self.assertRejected(
            resp, "Additional properties are not allowed ('binary', 'host' "
            "were unexpected)", '2.53')

    def test_latest_answers_with_novas_newest_version(self):
        resp = self.put('/os-services/%s' % self.service.id,
                        {'forced_down': 'maybe'}, 'latest')
        self.assertEqual(400, resp.status_int)
        self.assertEqual('compute 2.104',
                         resp.headers['OpenStack-API-Version'])

    def test_version_nova_does_not_support_is_left_to_nova(self):
        resp = self.put('/os-services/%s' % self.service.id,
                        {'forced_down': 'maybe'}, '2.999')
        self.assertEqual(406, resp.status_int)

    def test_below_2_11_is_left_to_nova(self):
        body = {'host': 'compute-1', 'binary': 'nova-compute'}
        self.put('/os-services/enable', body, '2.10')
        self.assertEqual(1, self.nova.count('PUT', '/os-services/enable'))

    def test_other_content_types_are_left_to_nova(self):
        resp = self.request(FORCE_DOWN, method='PUT', version='2.11',
                            body=b'<xml/>',
                            headers={'Content-Type': 'application/xml'})
        self.assertNotEqual(400, resp.status_int)
        self.assertEqual(1, self.nova.count('PUT', FORCE_DOWN))


class PasteTest(base.FilterTestCase):

    def test_etc_api_paste_ini_has_the_filter_after_keystonecontext(self):
        path = os.path.abspath(os.path.join(ETC, 'api-paste.ini'))
        factory = paste.deploy.loadfilter('config:%s' % path,
                                          name='hoststatus')
        self.assertIsInstance(factory(self.nova),
                              middleware.HostStatusFilter)
        parser = configparser.ConfigParser()
        parser.read(path)
        pipeline = parser['composite:openstack_compute_api_v21'][
            'keystone'].split()
        self.assertEqual(['keystonecontext', 'hoststatus',
                          'osapi_compute_app_v21'], pipeline[-3:])

    def test_paste_settings_reach_the_filter(self):
        other = os.path.join(self.tmp, 'other-policy.json')
        with open(other, 'w') as f:
            f.write('{}')
        factory = middleware.filter_factory(
            {}, oslo_config_config=self.conf, policy_file=other)
        self.assertEqual(other, factory(self.nova)._enforcer.policy_path)

    def test_a_deprecated_setting_is_accepted_with_one_warning(self):
        log = self.useFixture(fixtures.FakeLogger())
        factory = middleware.filter_factory(
            {}, oslo_config_config=self.conf, service_cache_time='3',
            memcache_secret_key='s3cret')
        self.assertIsInstance(factory(self.nova), middleware.HostStatusFilter)
        self.assertEqual(1, log.output.count('service_cache_time is '
                                             'deprecated'))
        self.assertEqual(1, log.output.count('memcache_secret_key is '
                                             'deprecated'))
        self.assertNotIn('s3cret', log.output)
