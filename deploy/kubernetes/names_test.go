package kubernetes_test

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// checkNames applies the API server's rules that strict decoding does not: object names
// (Services are DNS-1035 labels, the rest DNS subdomains), label keys and values, container,
// volume and port names (IANA service names, at most 15 characters), environment variable names.
func checkNames(m *manifests) []error {
	var errs []error
	add := func(where string, list field.ErrorList) {
		for _, e := range list {
			errs = append(errs, fmt.Errorf("%s: %s", where, e.Error()))
		}
	}
	addStrings := func(where string, msgs []string) {
		for _, msg := range msgs {
			errs = append(errs, fmt.Errorf("%s: %s", where, msg))
		}
	}
	for _, o := range m.objects {
		md := metaOf(o)
		_, isNamespace := o.obj.(*corev1.Namespace)
		nameFn := apivalidation.NameIsDNSSubdomain
		if _, isService := o.obj.(*corev1.Service); isService {
			nameFn = apivalidation.NameIsDNS1035Label
		}
		add(o.file, apivalidation.ValidateObjectMetaAccessor(md, !isNamespace, nameFn, field.NewPath("metadata")))
	}
	for _, n := range m.deploymentNames() {
		d := m.deployments[n]
		where := "deployment " + n
		add(where, metav1validation.ValidateLabels(d.Spec.Template.Labels, field.NewPath("spec", "template", "metadata", "labels")))
		spec := d.Spec.Template.Spec
		for _, v := range spec.Volumes {
			addStrings(where+": volume "+v.Name, validation.IsDNS1123Label(v.Name))
		}
		for _, c := range spec.Containers {
			addStrings(where+": container "+c.Name, validation.IsDNS1123Label(c.Name))
			for _, p := range c.Ports {
				addStrings(fmt.Sprintf("%s: container %s: port %q", where, c.Name, p.Name), validation.IsValidPortName(p.Name))
				addStrings(fmt.Sprintf("%s: container %s: port %q", where, c.Name, p.Name), validation.IsValidPortNum(int(p.ContainerPort)))
			}
			for _, e := range c.Env {
				addStrings(fmt.Sprintf("%s: container %s: env", where, c.Name), validation.IsEnvVarName(e.Name))
			}
		}
	}
	for name, s := range m.services {
		for _, p := range s.Spec.Ports {
			addStrings(fmt.Sprintf("service %s: port %q", name, p.Name), validation.IsValidPortName(p.Name))
		}
	}
	return errs
}
