from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "zongzhi.meetings"
    verbose_name = "联席调度会议"
