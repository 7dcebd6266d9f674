"""The seven connectors k8or ships, as the `k8or.connectors` entry points in pyproject.toml declare them."""

BUILTIN_ENTRY_POINTS = {
    "aws": "connectors.aws:AwsConnector",
    "dockerhub": "connectors.dockerhub:DockerhubConnector",
    "github": "connectors.github:GithubConnector",
    "google": "connectors.google:GoogleConnector",
    "jira": "connectors.jira:JiraConnector",
    "miro": "connectors.miro:MiroConnector",
    "toggl": "connectors.toggl:TogglConnector",
}
