# Sphinx configuration of the nova-hoststatus documentation
# (tox -e docs: sphinx-build -W --keep-going -b html doc/source doc/build/html).

extensions = [
    'openstackdocstheme',
    # ".. show-options:: nova_hoststatus": the options, from the
    # oslo.config.opts entry point in setup.cfg.
    'oslo_config.sphinxext',
    # ".. show-policy::": the policy defaults, from the oslo.policy.policies
    # entry point named in etc/oslo-policy-generator/nova-hoststatus.conf
    # (the file tox -e genpolicy reads; configuration/policy.rst names it).
    'oslo_policy.sphinxext',
]

# openstackdocstheme: the project is not hosted on opendev, so no
# repository or bug tracker links; the version comes from pbr (git).
openstackdocs_repo_name = ''
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False

project = 'nova-hoststatus'
copyright = 'nova-hoststatus developers'

source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = []
pygments_style = 'native'

html_theme = 'openstackdocs'
# The theme's analytics tag is docs.openstack.org's: not for these pages.
html_theme_options = {'analytics_tracking_code': ''}
html_static_path = []
htmlhelp_basename = 'nova-hoststatusdoc'
