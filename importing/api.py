"""Import jobs in the REST API: an admin uploads a CSV file, a Celery task imports it, the job reports."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.permissions import RolePermission
from accounts.roles import ADMIN
from importing.models import ImportJob
from importing.serializers import ImportJobSerializer, ImportUploadSerializer
from importing.tasks import import_run
from lib.rest import PagePagination, StrictFilterBackend


class ImportJobViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """CSV imports (admins only): upload a file, then follow the job until it is done or failed."""

    serializer_class = ImportJobSerializer
    permission_classes = [RolePermission]
    read_roles = write_roles = (ADMIN,)
    parser_classes = [MultiPartParser]  # a file: the one request body that is not JSON
    pagination_class = PagePagination
    filter_backends = [StrictFilterBackend]
    queryset = ImportJob.objects.select_related("created_by")

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportJobSerializer})
    def create(self, request):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        job = ImportJob.objects.create(
            kind=data["kind"],
            file=data["file"],
            original_name=data["file"].name[:255],
            skip_errors=data["skip_errors"],
            dry_run=data["dry_run"],
            created_by=request.user,
        )
        import_run.delay_on_commit(job.pk)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
