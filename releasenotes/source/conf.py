# Sphinx configuration of the nova-hoststatus release notes
# (tox -e releasenotes: sphinx-build -W --keep-going -b html
# releasenotes/source releasenotes/build/html).

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

# openstackdocstheme: the project is not hosted on opendev, so no
# repository or bug tracker links.
openstackdocs_repo_name = ''
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False

project = 'nova-hoststatus Release Notes'
copyright = 'nova-hoststatus developers'

# Release notes are not versioned documents: reno names the versions.
version = ''
release = ''
openstackdocs_auto_version = False

source_suffix = '.rst'
master_doc = 'index'
exclude_patterns = []
pygments_style = 'native'

html_theme = 'openstackdocs'
# The theme's analytics tag is docs.openstack.org's: not for these pages.
html_theme_options = {'analytics_tracking_code': ''}
html_static_path = []
htmlhelp_basename = 'nova-hoststatusReleaseNotesdoc'
