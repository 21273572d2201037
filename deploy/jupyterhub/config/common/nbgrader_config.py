# nbgrader's settings for every single-user server of the course hub (deploy/jupyterhub/): the
# course, the exchange and its classes. The hub puts this folder on JUPYTER_CONFIG_PATH; an
# instructor's course folder adds its own nbgrader_config.py (the grading settings) on top.
import os
import sys

# course_exchange.py sits two folders up, beside jupyterhub_config.py.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
c.CourseDirectory.course_id = os.environ.get("NNCOURSE_COURSE_ID", "nn-from-scratch")
c.Exchange.root = os.environ["NNCOURSE_EXCHANGE"]
c.ExchangeFactory.submit = "course_exchange.PrivateSubmit"
c.ExchangeFactory.collect = "course_exchange.OwnedCollect"
