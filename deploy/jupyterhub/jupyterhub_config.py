# The course hub: JupyterHub on one machine, each user's server a process of their own Unix account.
# course_hub.py starts it (`make hub`, tests/test_hub.py) and passes what differs between a demo and
# a test through NNCOURSE_* variables; the rest is the recipe.
import grp
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATE = Path(os.environ["NNCOURSE_HUB_STATE"])    # the hub's database, cookie secret, logs
ENV_BIN = Path(os.environ["NNCOURSE_HUB_ENV"]) / "bin"  # the course environment, shared by all
EXCHANGE = os.environ["NNCOURSE_EXCHANGE"]
INSTRUCTORS = os.environ.get("NNCOURSE_INSTRUCTORS", "nn-instructors")
COURSE_FOLDER = os.environ.get("NNCOURSE_COURSE_FOLDER", "course")  # in an instructor's home

c = get_config()  # noqa: F821 (provided by traitlets when jupyterhub loads this file)

# Local only: a demo or a test, never reachable from another machine. A real deployment puts
# HTTPS in front of the proxy (see docs/deployment.md).
c.JupyterHub.bind_url = f"http://127.0.0.1:{os.environ.get('NNCOURSE_HUB_PORT', '8000')}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("NNCOURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{os.environ.get('NNCOURSE_PROXY_API_PORT', '8001')}")
c.ConfigurableHTTPProxy.command = [os.environ.get("NNCOURSE_PROXY", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# Every user's server is stopped with the hub: nothing outlives `make hub-clean` or a test.
c.JupyterHub.cleanup_servers = True

# Real accounts, real passwords: PAM checks them as the system does for a login. Only the course's
# accounts may log in; members of the instructors' group are the hub's admins.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(filter(None, os.environ.get("NNCOURSE_USERS", "").split(",")))
c.Authenticator.admin_users = set(grp.getgrnam(INSTRUCTORS).gr_mem)
c.PAMAuthenticator.open_sessions = False

# tests/test_hub.py drives the hub through its REST API with a token of its own (a service allowed
# to start servers and to reach them); a demo has none.
if os.environ.get("NNCOURSE_API_TOKEN"):
    c.JupyterHub.services = [{"name": "course-test", "api_token": os.environ["NNCOURSE_API_TOKEN"]}]
    c.JupyterHub.load_roles = [{
        "name": "course-test", "services": ["course-test"],
        "scopes": ["admin:users", "admin:servers", "access:servers", "list:users"]}]

# Each server runs as its user (LocalProcessSpawner switches to the account), in the course
# environment, opening JupyterLab.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(ENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 60
c.Spawner.env_keep = ["LANG", "LC_ALL", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"]


def course_environment(spawner):
    """Instructors open their course folder with every nbgrader tool; students open their home with
    the assignment list and Validate only (config/student switches the rest off)."""
    name = spawner.user.name
    instructor = name in grp.getgrnam(INSTRUCTORS).gr_mem
    config_path = [HERE / "config" / "common"]
    if not instructor:
        config_path.insert(0, HERE / "config" / "student")
    spawner.environment.update({
        "PATH": f"{ENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "JUPYTER_CONFIG_PATH": os.pathsep.join(map(str, config_path)),
        "NNCOURSE_EXCHANGE": EXCHANGE,
    })
    if instructor:
        spawner.notebook_dir = f"~/{COURSE_FOLDER}"
        # Started in the course folder, as `jupyter lab` would be there: nbgrader's formgrader reads
        # the course's nbgrader_config.py from the working folder (the spawner starts in the home).
        spawner.cmd = ["sh", "-c", f'cd "$HOME/{COURSE_FOLDER}" && exec "$0" "$@"',
                       str(ENV_BIN / "jupyterhub-singleuser")]
    else:
        spawner.cmd = [str(ENV_BIN / "jupyterhub-singleuser")]


c.Spawner.pre_spawn_hook = course_environment
