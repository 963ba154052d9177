#include "xml_tree_builder.h"

#include <QXmlStreamReader>

namespace xbnc {

void XmlTreeBuilder::startElement(const QXmlStreamReader &reader)
{
    Element element(reader.name().toString(), reader.namespaceUri().toString());
    element.setPrefix(reader.prefix().toString());
    for (const QXmlStreamNamespaceDeclaration &d : reader.namespaceDeclarations()) {
        if (!d.prefix().isEmpty())
            element.addPrefixDeclaration(d.prefix().toString(), d.namespaceUri().toString());
    }
    for (const QXmlStreamAttribute &a : reader.attributes())
        element.setAttribute(a.qualifiedName().toString(), a.value().toString());

    if (open_.empty()) {
        root_ = std::move(element);
        open_.push_back(&root_);
    } else {
        open_.push_back(&open_.back()->addChild(std::move(element)));
    }
}

void XmlTreeBuilder::characters(QStringView text)
{
    if (!open_.empty())
        open_.back()->addChild(Element::textNode(text.toString()));
}

bool XmlTreeBuilder::endElement()
{
    if (open_.empty())
        return false;
    open_.pop_back();
    return open_.empty();
}

Element XmlTreeBuilder::takeRoot()
{
    Element root = std::move(root_);
    clear();
    return root;
}

void XmlTreeBuilder::clear()
{
    root_ = Element();
    open_.clear();
}

} // namespace xbnc
